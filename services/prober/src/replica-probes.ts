import type { Logger } from "@switchyard/bus";
import {
  type EndpointRecord,
  EVENT_SCHEMA_VERSION,
  type EventOf,
  type ReplicaRecord,
  type SpecRecord,
  type YardEvent,
} from "@switchyard/contracts";
import type { HttpProber } from "./probe-http.js";
import type { ProbeLoop, ProbeLoopDeps } from "./probe-loop.js";
import {
  endpointOf,
  isDraining,
  missingRevisions,
  type ProbeBook,
  type ProbeTarget,
  rememberSpec,
  targetOf,
  verdictConfig,
} from "./probe-targets.js";
import {
  describeOutcome,
  INITIAL_STATE,
  type ProbeAction,
  type ProbeState,
  verdict,
} from "./probe-verdict.js";

/**
 * Converges `yard-endpoints` to what the prober wants (bus.ts): one write in flight per key,
 * always the latest wish, retried until it lands.
 */
export interface EndpointWriter {
  /** Record a key that exists in the bucket (from the start-up snapshot). */
  seed(key: string): void;
  /** The endpoint of `key` should be `value`; null = absent. */
  set(key: string, value: EndpointRecord | null): void;
  /** Keys believed present. */
  keys(): string[];
  /** Wait for the writes in flight; stop retrying ones that fail from now on. */
  close(): Promise<void>;
}

export interface ReplicaProbesDeps {
  writer: EndpointWriter;
  logger: Logger;
  http: HttpProber;
  /** Publish an event; `onFail` runs if it could not be published. */
  emit(ev: YardEvent, onFail: () => void): void;
  now(): number;
  failureThresholdMs: number;
  loop(p: Pick<ProbeLoopDeps, "due" | "dueStarting" | "probeOnce" | "onError">): ProbeLoop;
}

export interface ReplicaProbes {
  /** A replica record was put (`r`) or deleted (undefined). */
  replicaChanged(key: string, r: ReplicaRecord | undefined): void;
  /** A service's spec was put (`rec`) or deleted (null). */
  specChanged(rec: SpecRecord | null): void;
  /** Services with a replica of a revision whose probe is unknown (we restarted mid-update). */
  servicesMissingProbes(): Set<string>;
  /** An older revision of a spec, from the bucket's history (before converge). */
  olderSpec(rec: SpecRecord): void;
  hint(key: string): void;
  /** After the snapshots: drop endpoints that must not exist, start probing. Returns how many were dropped. */
  converge(existing: Map<string, EndpointRecord | null>): number;
  size(): number;
  stop(): Promise<void>;
}

interface Entry {
  target: ProbeTarget;
  state: ProbeState;
}

/**
 * The prober's memory and its only owner: the probe of every spec revision seen (the book),
 * which replicas it probes, their verdict state, and what a verdict does.
 */
export function createReplicaProbes(d: ReplicaProbesDeps): ReplicaProbes {
  const { logger, writer } = d;
  const book: ProbeBook = new Map();
  const replicas = new Map<string, ReplicaRecord>();
  const entries = new Map<string, Entry>();
  /** What this prober last put (or found) in yard-endpoints per key: a drain marks it. */
  const published = new Map<string, EndpointRecord>();
  const publish = (key: string, value: EndpointRecord | null) => {
    if (value) published.set(key, value);
    else published.delete(key);
    writer.set(key, value);
  };
  /** The last note logged per replica key, so each is logged once (bounded: one per replica). */
  const noted = new Map<string, string>();
  let started = false;

  const noteOnce = (key: string, id: string, obj: object, msg: string) => {
    if (noted.get(key) === id) return;
    noted.set(key, id);
    logger.info(obj, msg);
  };

  function update(key: string): void {
    const r = replicas.get(key);
    const cur = entries.get(key);
    if (isDraining(r)) {
      if (cur) {
        entries.delete(key);
        logger.info(
          { service: r!.service, replica: r!.id },
          "replica draining: endpoint marked, probing stopped",
        );
      }
      // Ready (an endpoint is up): proxies route to it; mark it. Else there is nothing to drain.
      const ep = published.get(key);
      if (!ep) writer.set(key, null);
      else if (!ep.draining) publish(key, { ...ep, draining: true });
      return;
    }
    const res = targetOf(key, r, book);
    if (!res.target) {
      if (cur) {
        entries.delete(key);
        logger.info(
          { service: cur.target.service, replica: cur.target.replicaId, phase: r?.phase ?? null },
          "stopped probing replica",
        );
      }
      if (res.why === "no-spec")
        noteOnce(
          key,
          "no-spec",
          { service: r?.service, replica: r?.id },
          "no spec seen for this replica's service yet; not probing",
        );
      publish(key, null);
      return;
    }
    const t = res.target;
    if (res.note)
      noteOnce(
        key,
        `${t.identity}|${res.note}`,
        { service: t.service, replica: t.replicaId, note: res.note },
        "probing with another revision's probe",
      );
    if (cur && cur.target.identity === t.identity) {
      cur.target = t; // phase, probe or revision (retag) changed: same launch, the verdict goes on
      // A retag: the endpoint says the new revision at once, without a gap in routing.
      const ep = published.get(key);
      if (ep && ep.revision !== t.revision) publish(key, { ...ep, revision: t.revision });
      return;
    }
    // New launch at this key: whatever was published for the old one is stale.
    if (cur) publish(key, null);
    entries.set(key, { target: t, state: INITIAL_STATE });
    if (started) loop.kick(key);
  }

  async function probeOnce(key: string): Promise<void> {
    const e = entries.get(key);
    if (!e || e.state.failed) return;
    const t = e.target;
    const outcome = await d.http.probe(t.url, t.probe);
    // Cut by shutdown, or the replica went away or was relaunched meanwhile: nothing to judge.
    if (outcome === null || entries.get(key) !== e) return;
    const now = d.now();
    const cfg = verdictConfig(e.target, d.failureThresholdMs);
    const v = verdict(e.state, outcome, now, cfg);
    e.state = v.state;
    logger.debug(
      {
        service: t.service,
        replica: t.replicaId,
        method: cfg.method,
        path: cfg.path,
        got: describeOutcome(outcome),
      },
      "probed",
    );
    for (const a of v.actions) act(key, e, a, now);
  }

  function act(key: string, e: Entry, a: ProbeAction, now: number): void {
    const t = e.target;
    const at = new Date(now);
    const base: Omit<EventOf<"replica.ready">, "type" | "url"> = {
      schema: EVENT_SCHEMA_VERSION,
      service: t.service,
      replica_id: t.replicaId,
      revision: t.revision,
      at: at.toISOString(),
    };
    const log = { service: t.service, replica: t.replicaId, revision: t.revision };
    switch (a.kind) {
      case "put-endpoint":
        publish(key, endpointOf(t, at));
        break;
      case "delete-endpoint":
        publish(key, null);
        break;
      case "ready":
        logger.info({ ...log, url: t.url }, "replica ready");
        d.emit({ ...base, type: "replica.ready", url: t.url }, () => {});
        break;
      case "unready":
        logger.warn({ ...log, why: a.message }, "replica not ready");
        d.emit({ ...base, type: "replica.unready", message: a.message }, () => {});
        break;
      case "failed":
        logger.warn(
          { ...log, phase: a.phase, reason: a.reason, why: a.message },
          "replica failed its readiness probe",
        );
        d.emit(
          { ...base, type: "replica.failed", phase: a.phase, reason: a.reason, message: a.message },
          () => {
            // Not published: judge again on the next tick so the provisioner does hear of it.
            if (entries.get(key) === e) e.state = { ...e.state, failed: false };
          },
        );
    }
  }

  const loop = d.loop({
    due: () => [...entries].filter(([, e]) => !e.state.failed).map(([k]) => k),
    dueStarting: () =>
      [...entries].filter(([, e]) => !e.state.failed && e.state.firstReadyAt === null).map(([k]) => k),
    probeOnce,
    onError: (key, err) => logger.error({ key, err: String(err) }, "probe crashed"),
  });

  return {
    replicaChanged(key, r) {
      if (r) replicas.set(key, r);
      else {
        replicas.delete(key);
        noted.delete(key);
      }
      if (started) update(key);
    },
    specChanged(rec) {
      // A deleted spec keeps its probes: its replicas are probed until the provisioner ends them.
      if (!rec) return;
      rememberSpec(book, rec);
      if (!started) return;
      for (const [key, r] of replicas) if (r.service === rec.name) update(key);
    },
    servicesMissingProbes: () => missingRevisions(book, replicas.values()),
    olderSpec: (rec) => rememberSpec(book, rec, false),
    hint(key) {
      const e = entries.get(key);
      if (e && !e.state.failed) loop.kick(key);
      else logger.debug({ key }, "probe hint for a replica not being probed");
    },
    converge(existing) {
      for (const [key, ep] of existing) {
        writer.seed(key);
        if (ep) published.set(key, ep);
      }
      let removed = 0;
      for (const key of new Set([...existing.keys(), ...replicas.keys()])) {
        update(key);
        const ep = existing.get(key);
        // A drain goes on across a restart: its endpoint stays (marked by update).
        if (ep === undefined || (ep && isDraining(replicas.get(key)))) continue;
        const e = entries.get(key);
        const t = e?.target;
        if (e && t && ep && ep.url === t.url && ep.replica_id === t.replicaId) {
          // Published by our previous run: a failing probe must take it back.
          e.state = { ...INITIAL_STATE, ready: true, firstReadyAt: d.now() };
          // Relabelled while no prober ran (a retag: ids are never reused, so the same id and
          // URL are the same launch): the endpoint says the new revision, without a gap in
          // routing, as update() does for a retag it sees.
          if (ep.revision !== t.revision) publish(key, { ...ep, revision: t.revision });
        } else {
          publish(key, null);
          removed++;
        }
      }
      started = true;
      loop.start();
      for (const key of entries.keys()) loop.kick(key);
      return removed;
    },
    size: () => entries.size,
    stop: () => loop.stop(),
  };
}
