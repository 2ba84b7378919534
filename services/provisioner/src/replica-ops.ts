import type { Logger } from "@switchyard/bus";
import {
  EVENT_SCHEMA_VERSION,
  REPLICA_SCHEMA_VERSION,
  type Reason,
  type ReplicaPhase,
  type ReplicaRecord,
  type ResolvedSpec,
  RUNNING_PHASES,
  replicaKey,
  type YardEvent,
} from "@switchyard/contracts";
import type { Backend, Launched } from "./backends/backend.js";
import type { Drainer, DrainOutcome } from "./drainer.js";
import type { Allocation } from "./inventory.js";
import { choosePort } from "./port-choice.js";
import type { ReplicaStore } from "./replica-store.js";

export interface OpsDeps {
  backend: Backend;
  store: ReplicaStore;
  publish: (ev: YardEvent) => void;
  logger: Logger;
  hostAddress: string;
  now: () => number;
  /** Something changed in the background: reconcile again. */
  kick: () => void;
  /** A replica failed (for the service's replacement backoff). */
  onFailure: (service: string) => void;
  /** The secret values of the service's current spec (masked in a failed replica's log tail). */
  secretsOf: (service: string) => string[];
  /** Waits for the proxies to have no request in flight on a draining replica. */
  drainer: Drainer;
  /** YARD_DRAIN_TIMEOUT_S, in ms: the longest drain. */
  drainTimeoutMs: number;
}

export interface FailureNote {
  phase: ReplicaPhase;
  reason: Reason;
  message: string;
  /** It halts its revision's launches (isUnrecoverable); absent: it does not. */
  unrecoverable?: boolean;
}

/** An event without its envelope fields (distributes over the union). */
type EventBody = YardEvent extends infer E ? (E extends YardEvent ? Omit<E, "schema" | "at"> : never) : never;

/**
 * The effects on replicas: every record write goes with its event and log line; slow work
 * (choosing a port, spawning, stopping a process group) runs in the background and kicks the
 * reconciler when done. Records are written before the slow part starts, so a reconcile pass
 * in between already sees PROVISIONING / SHUTTING_DOWN and does not act twice.
 */
export class ReplicaOps {
  stopped = false;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(private readonly d: OpsDeps) {}

  launch(service: string, id: number, revision: number, spec: ResolvedSpec, acc: Allocation | null): void {
    const key = replicaKey(service, id);
    const launched_at = this.iso();
    this.change({
      ...(this.d.store.get(key) ?? this.blank(service, id, revision)),
      phase: "PROVISIONING",
      accelerator: acc?.name ?? null,
      accelerator_count: acc?.count ?? null,
      gpu_indices: acc?.indices ?? [],
      launched_at,
      reason: null,
      message: null,
      unrecoverable: false,
      log_tail: [],
    });
    // Still this launch's record (not stopped or relaunched meanwhile)?
    const ours = () => {
      const r = this.d.store.get(key);
      return r && RUNNING_PHASES.includes(r.phase) && r.launched_at === launched_at && !this.stopped
        ? r
        : null;
    };
    const { backend, store } = this.d;
    this.background(
      (async () => {
        const port = await choosePort(backend, store, key, spec);
        if (!ours()) return;
        if (!port.ok) return this.fail(key, { phase: "FAILED", reason: "PortInUse", message: port.message });
        let launched: Launched;
        try {
          const gpuIndices = acc?.indices ?? [];
          launched = await backend.launch({ service, id, revision, spec, port: port.port, gpuIndices });
        } catch (err) {
          const message = `could not start the replica: ${(err as Error).message}`;
          return this.fail(key, { phase: "FAILED", reason: "LaunchFailed", message });
        }
        const r = ours();
        if (!r) return void (await backend.terminate(service, id, launched.handle));
        store.put({ ...r, handle: launched.handle, host: launched.host });
        this.event({ type: "replica.launched", ...ids(r), url: url(launched.host, port.port) });
      })(),
    );
  }

  /** `run` began: the replica now has a URL and the prober starts probing it. */
  started(key: string, host?: string): void {
    const r = this.d.store.get(key);
    if (r?.phase !== "PROVISIONING" || r.port === null) return;
    const at = host ?? r.host;
    this.change({ ...r, phase: "STARTING", host: at, url: url(at, r.port), reason: null, message: null });
  }

  /**
   * Launched, not placed yet (a Pod the scheduler cannot place): still PROVISIONING, with the
   * reason and the backend's words (the scheduler's message) in status; null when placed.
   */
  waiting(key: string, reason: Reason | null, message: string | null): void {
    const r = this.d.store.get(key);
    if (r?.phase !== "PROVISIONING") return;
    this.change({ ...r, reason, message });
  }

  /**
   * Record a failure (kept in status, with the end of its log), stop what is left of the
   * replica; it is then replaced, unless the failure halts its revision.
   */
  fail(key: string, f: FailureNote): void {
    const r = this.d.store.get(key);
    if (!r || !RUNNING_PHASES.includes(r.phase)) return;
    this.d.onFailure(r.service);
    // Read now: the backend scrubs the secrets file once the processes are gone.
    const secrets = [...this.d.backend.secretValues(r.service, r.id), ...this.d.secretsOf(r.service)];
    const more = this.d.backend.running(r.service, r.id);
    const log_tail = this.d.backend.logTail(r.service, r.id, secrets, more);
    const unrecoverable = f.unrecoverable ?? false;
    this.change({ ...r, phase: f.phase, reason: f.reason, message: f.message, unrecoverable, log_tail });
    this.background(
      this.d.backend.terminate(r.service, r.id, r.handle).then(() => {
        this.event({ type: "replica.terminated", ...ids(r), reason: f.reason });
        this.d.kick();
      }),
    );
    this.d.kick();
  }

  /**
   * SHUTTING_DOWN first (the prober and proxies drop it), then stop the group, then delete the
   * record. With `drain`, the stop waits for the drain (see drain()).
   */
  terminate(key: string, reason: Reason | null, message: string, drain = false): Promise<void> {
    const r = this.d.store.get(key);
    if (!r) return Promise.resolve();
    if (drain && r.phase !== "SHUTTING_DOWN") return this.drain(key, r, reason ?? "ScaledDown", message);
    // A drain cut short (the provisioner stops) ends here: its endpoint goes too.
    if (r.phase !== "SHUTTING_DOWN" || r.drain)
      this.change({ ...r, phase: "SHUTTING_DOWN", reason: reason ?? r.reason, message, drain: null });
    const p = this.d.backend.terminate(r.service, r.id, r.handle).then(() => {
      this.d.store.remove(key);
      this.event({ type: "replica.terminated", ...ids(r), reason });
      this.d.kick();
    });
    this.background(p);
    return p;
  }

  /**
   * Drain, then stop: SHUTTING_DOWN with `drain` set, so that the prober marks its endpoint
   * `draining` and every proxy stops picking it while its requests in flight go on; once the
   * proxies report none left (or YARD_DRAIN_TIMEOUT_S), SIGTERM as terminate does. Failures never
   * drain (a dead replica has nothing to finish), as in SkyServe.
   */
  private drain(key: string, r: ReplicaRecord, reason: Reason, message: string): Promise<void> {
    const since = this.d.now();
    const deadline = since + this.d.drainTimeoutMs;
    const drain = { since: this.iso(since), deadline: this.iso(deadline), in_flight: null };
    this.change({ ...r, phase: "SHUTTING_DOWN", reason, message, drain });
    this.d.logger.info(
      { service: r.service, replica: r.id, reason, timeout_s: this.d.drainTimeoutMs / 1000 },
      "replica draining: out of every proxy's rotation, stopped once no request is in flight on it",
    );
    this.event({ type: "replica.draining", ...ids(r), reason, deadline: drain.deadline });
    return this.waitDrain(key, since, deadline);
  }

  /** A drain found in progress at a restart (its record says so): wait for the rest of it. */
  resumeDrain(key: string): Promise<void> {
    const r = this.d.store.get(key);
    if (!r?.drain) return this.terminate(key, r?.reason ?? null, r?.message ?? "stopping (interrupted)");
    this.d.logger.info(
      { service: r.service, replica: r.id, deadline: r.drain.deadline },
      "replica drain resumed",
    );
    return this.waitDrain(key, Date.parse(r.drain.since), Date.parse(r.drain.deadline));
  }

  /** End the drains now: the provisioner stops (the replicas are stopped, or kept, by its shutdown). */
  abortDrains(): void {
    this.d.drainer.abortAll();
  }

  private waitDrain(key: string, since: number, deadline: number): Promise<void> {
    const r0 = this.d.store.get(key)!;
    const progress = (inFlight: number | null) => {
      const cur = this.d.store.get(key);
      if (cur?.drain && cur.drain.in_flight !== inFlight)
        this.d.store.put({ ...cur, drain: { ...cur.drain, in_flight: inFlight } });
    };
    const p = this.d.drainer
      .wait(key, { service: r0.service, id: r0.id, since, deadline, progress })
      .then((o) => (o.outcome === "aborted" ? undefined : this.drained(key, o)));
    this.background(p);
    return p;
  }

  private drained(key: string, o: Exclude<DrainOutcome, { outcome: "aborted" }>): Promise<void> {
    const r = this.d.store.get(key);
    if (!r?.drain) return Promise.resolve();
    const log = { service: r.service, replica: r.id, waited_ms: o.waitedMs, in_flight: o.inFlight };
    let message = r.message ?? "stopping";
    if (o.outcome === "timeout") {
      const why = `drain timed out after ${Math.round(o.waitedMs / 1000)} s (YARD_DRAIN_TIMEOUT_S) with ${o.inFlight} request(s) still in flight`;
      message = `${message}; ${why}`;
      this.d.logger.warn(log, `replica drain ended: ${why}; sending SIGTERM`);
    } else this.d.logger.info(log, "replica drained: no request in flight on it; sending SIGTERM");
    this.event({
      type: "replica.drained",
      ...ids(r),
      outcome: o.outcome,
      in_flight: o.inFlight,
      waited_ms: o.waitedMs,
    });
    return this.terminate(key, r.reason, message);
  }

  /** Stop a replica that has no running record (leftover or orphan). */
  kill(service: string, id: number, handle: string): void {
    this.background(this.d.backend.terminate(service, id, handle));
  }

  /** Write a record; a phase or message change is logged and published. */
  change(r: ReplicaRecord): void {
    const before = this.d.store.get(replicaKey(r.service, r.id));
    this.d.store.put(r);
    if (before?.phase === r.phase && before.message === r.message) return;
    const { phase, reason, message } = r;
    this.d.logger.info({ service: r.service, replica: r.id, phase, reason, message }, "replica phase");
    this.event({ type: "replica.phase_changed", ...ids(r), phase, reason, message });
  }

  blank(service: string, id: number, revision: number): ReplicaRecord {
    return {
      schema: REPLICA_SCHEMA_VERSION,
      service,
      id,
      revision,
      phase: "PENDING",
      backend: this.d.backend.name,
      url: null,
      port: null,
      accelerator: null,
      accelerator_count: null,
      gpu_indices: [],
      handle: null,
      host: this.d.hostAddress,
      reason: null,
      message: null,
      launched_at: null,
      updated_at: this.iso(),
      first_ready_at: null,
      unrecoverable: false,
      log_tail: [],
      retiring: false,
      drain: null,
    };
  }

  /** Resolves when every background operation started so far has ended. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  iso(at = this.d.now()): string {
    return new Date(at).toISOString();
  }

  private background(p: Promise<unknown>): void {
    const q = p.catch((err) => this.d.logger.error({ err: String(err) }, "replica operation failed"));
    this.inflight.add(q);
    void q.finally(() => this.inflight.delete(q));
  }

  private event(e: EventBody): void {
    this.d.publish({ schema: EVENT_SCHEMA_VERSION, at: this.iso(), ...e } as YardEvent);
  }
}

/** A replica's base URL (an IPv6 host in brackets). */
function url(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

function ids(r: ReplicaRecord) {
  return { service: r.service, replica_id: r.id, revision: r.revision };
}
