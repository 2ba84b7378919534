import {
  type EndpointRecord,
  PROBED_PHASES,
  REPLICA_SCHEMA_VERSION,
  type ReadinessProbe,
  type ReplicaRecord,
  type SpecRecord,
} from "@switchyard/contracts";
import type { VerdictConfig } from "./probe-verdict.js";

/** One replica the prober probes, with the readiness probe of its spec revision. */
export interface ProbeTarget {
  key: string;
  service: string;
  replicaId: number;
  revision: number;
  url: string;
  accelerator: string | null;
  /**
   * Changes when the key points at another process (another launch, or url): the verdict
   * restarts. A retag (the spec changed in `service:` only, the replica now counts as the new
   * revision) is the same process: its verdict and endpoint go on, relabelled.
   */
  identity: string;
  probe: ReadinessProbe;
}

/**
 * The readiness probe of every spec revision seen, per service. SkyServe probes a replica with
 * its own version's probe; the bucket only holds the latest spec, so older revisions are known
 * only if this process saw them.
 */
export type ProbeBook = Map<string, { latest: number; byRevision: Map<number, ReadinessProbe> }>;

/** Remember a spec's probe; `asLatest: false` adds an older revision (from KV history) only. */
export function rememberSpec(book: ProbeBook, rec: SpecRecord, asLatest = true): void {
  let e = book.get(rec.name);
  if (!e) {
    e = { latest: rec.revision, byRevision: new Map() };
    book.set(rec.name, e);
  }
  if (asLatest) e.latest = rec.revision;
  if (asLatest || !e.byRevision.has(rec.revision))
    e.byRevision.set(rec.revision, rec.spec.service.readiness_probe);
}

/** Services with a replica whose revision's probe is not known yet. */
export function missingRevisions(book: ProbeBook, replicas: Iterable<ReplicaRecord>): Set<string> {
  const out = new Set<string>();
  for (const r of replicas) {
    const e = book.get(r.service);
    if (e && !e.byRevision.has(r.revision)) out.add(r.service);
  }
  return out;
}

export type TargetResult =
  | { target: ProbeTarget; note: string | null }
  | { target: null; why: "not-probed" | "no-spec" };

/** Whether and how to probe this replica now. */
export function targetOf(key: string, r: ReplicaRecord | undefined, book: ProbeBook): TargetResult {
  if (!r || !PROBED_PHASES.includes(r.phase) || !r.url) return { target: null, why: "not-probed" };
  const specs = book.get(r.service);
  if (!specs) return { target: null, why: "no-spec" };
  let probe = specs.byRevision.get(r.revision);
  let note: string | null = null;
  if (!probe) {
    probe = specs.byRevision.get(specs.latest)!;
    note = `probe of revision ${r.revision} unknown; using revision ${specs.latest}'s`;
  }
  return {
    target: {
      key,
      service: r.service,
      replicaId: r.id,
      revision: r.revision,
      url: r.url,
      accelerator: r.accelerator,
      identity: `${r.url}|${r.launched_at}`,
      probe,
    },
    note,
  };
}

export function verdictConfig(t: ProbeTarget, failureThresholdMs: number): VerdictConfig {
  return {
    method: t.probe.post_data != null ? "POST" : "GET",
    path: t.probe.path,
    initialDelaySeconds: t.probe.initial_delay_seconds,
    failureThresholdMs,
  };
}

/** Base URL + probe path; `http://` is assumed when the URL has no scheme (as SkyServe does). */
export function probeUrl(base: string, path: string): string {
  const b = /^[a-z][a-z0-9+.-]*:\/\//i.test(base) ? base : `http://${base}`;
  return b.replace(/\/+$/, "") + path;
}

export function endpointOf(t: ProbeTarget, now: Date): EndpointRecord {
  return {
    schema: REPLICA_SCHEMA_VERSION,
    service: t.service,
    replica_id: t.replicaId,
    url: t.url,
    revision: t.revision,
    accelerator: t.accelerator,
    ready_at: now.toISOString(),
    draining: false,
  };
}

/**
 * A replica the provisioner drains (SHUTTING_DOWN with `drain`): its endpoint stays, marked
 * `draining`, so that proxies keep counting its requests in flight but pick it for no new one;
 * it is not probed any more (its end is decided). Only the provisioner's record can end this.
 */
export function isDraining(r: ReplicaRecord | undefined): boolean {
  return r?.phase === "SHUTTING_DOWN" && r.drain !== null;
}
