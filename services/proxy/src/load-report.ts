// @pure: no I/O (tools/lint-boundaries checks it)
import { LOAD_SCHEMA_VERSION, type LoadReport, MAX_REPORT_REPLICAS } from "@switchyard/contracts";

/** What a report says about one service's replicas (a route-table ServiceEntry is one). */
export interface ServiceLoad {
  readonly name: string;
  readonly replicas: readonly { readonly id: number; readonly inFlight: number }[];
  /** Bumped by every change to the service's routes (RouteTable): reports follow a change. */
  readonly changes?: number;
}

/** The most `requests` one report may carry (the contract's bound; a count over it is capped). */
const MAX_REQUESTS = 1_000_000_000;

/**
 * After a service was busy or its routes changed, it is reported at this many more ticks (and
 * for at least FOLLOW_MS): a drain counts only a report made an interval (and at least
 * provisioner's DRAIN_SETTLE_MS) after the proxy took the replica out of rotation, and one
 * tick may be skipped while the previous one is still being sent.
 */
const FOLLOW_TICKS = 3;
const FOLLOW_MS = 1_000;

/** Per service: what the next tick must know to tell whether to report it. */
interface Reporting {
  seq: number;
  sentAt: number;
  /** When it was last busy or its routes last changed. */
  activeAt: number;
  /** Ticks since then. */
  quietTicks: number;
  changes: number | undefined;
}

/**
 * One proxy's load reports (`LoadReport`, sent batched on `yard.load`, read by the autoscaler and
 * the provisioner's drains). The data plane calls `request` once per request it resolved to a
 * service, before any attempt: a retry is not a new request (SkyServe's load balancer records
 * one timestamp per request). Each interval `tick` gives one report per service that is busy
 * (requests, held, in flight), just became quiet, or had a route change in its last
 * FOLLOW_TICKS, and each service's first (followed, when quiet, by its heartbeat only); a quiet
 * one is reported once per `heartbeatMs`, and every report says by when the next comes
 * (`next_ms`), so that readers still read silence as missing data, never as no load. `demand`
 * gives one at once when a request is held at zero replicas, at most one per service between
 * two ticks: the autoscaler scales 0 → 1 on the first, and the held count is in every tick's
 * reports after it.
 */
export class LoadReports {
  /** Requests since the service's last report. */
  private readonly counts = new Map<string, number>();
  /** Per service: its last `seq` (1 is a service's first report from this process) and pace. */
  private readonly state = new Map<string, Reporting>();
  /** Services given an early report since the last tick. */
  private readonly early = new Set<string>();
  readonly heartbeatMs: number;

  constructor(
    readonly proxyId: string,
    readonly intervalMs: number,
    /** A quiet service's report at least this often (never less than `intervalMs`). */
    heartbeatMs: number = intervalMs,
  ) {
    this.heartbeatMs = Math.max(heartbeatMs, intervalMs);
  }

  request(service: string): void {
    this.counts.set(service, (this.counts.get(service) ?? 0) + 1);
  }

  /**
   * The interval's reports: each service routed now that is due (above), then any that had
   * requests and has left the table since (its last count is not lost). A service no longer
   * routed is forgotten: if it comes back, its reports start again at seq 1, as after a restart.
   *
   * Lazy: each report is made when the caller takes it, so a caller may spread a tick of 10k
   * services over many event-loop turns (the proxy does: one tick built at once blocked its
   * streams for tens of milliseconds). `services` is read as it is iterated; give a snapshot.
   * Requests counted while a tick is under way go into the report made after them.
   */
  *tick(
    services: Iterable<ServiceLoad>,
    held: (service: string) => number,
    now: number,
  ): Generator<LoadReport> {
    this.early.clear();
    const sentAt = new Date(now).toISOString();
    const routed = new Set<string>();
    for (const s of services) {
      routed.add(s.name);
      const h = held(s.name);
      if (this.due(s, h, now)) yield this.report(s, h, sentAt, now);
    }
    for (const name of [...this.counts.keys()])
      if (!routed.has(name)) yield this.report({ name, replicas: [] }, held(name), sentAt, now);
    for (const name of [...this.state.keys()]) if (!routed.has(name)) this.state.delete(name);
  }

  /** A report now for a service whose first request was just held; null if one went out early already. */
  demand(s: ServiceLoad, held: number, now: number): LoadReport | null {
    if (this.early.has(s.name)) return null;
    this.early.add(s.name);
    return this.report(s, held, new Date(now).toISOString(), now);
  }

  /** Whether this tick reports the service (and, as a tick passes, its quiet count). */
  private due(s: ServiceLoad, held: number, now: number): boolean {
    const st = this.state.get(s.name);
    if (!st) return true; // its first report: readers learn this proxy routes it
    if (busy(s, held, this.counts.get(s.name) ?? 0) || st.changes !== s.changes) {
      st.activeAt = now;
      st.quietTicks = 0;
      return true;
    }
    st.quietTicks++;
    if (st.quietTicks <= FOLLOW_TICKS || now - st.activeAt < FOLLOW_MS) return true;
    // Half an interval early rather than a whole interval late (ticks drift by milliseconds);
    // each service up to half a heartbeat earlier by its name, so that 10k services that went
    // quiet together (at start) do not all send their heartbeats in the same tick.
    const early = this.intervalMs / 2 + spread(s.name) * (this.heartbeatMs / 2);
    return now - st.sentAt + early >= this.heartbeatMs;
  }

  private report(s: ServiceLoad, held: number, sentAt: string, now: number): LoadReport {
    const requests = Math.min(this.counts.get(s.name) ?? 0, MAX_REQUESTS);
    this.counts.delete(s.name);
    const quiet = !busy(s, held, requests);
    let st = this.state.get(s.name);
    if (!st) {
      // A first report that is quiet has nothing to follow: the next is its heartbeat (10k
      // services at a proxy's start: one report each, not one each second for 4 s).
      st = {
        seq: 0,
        sentAt: now,
        activeAt: quiet ? now - FOLLOW_MS : now,
        quietTicks: quiet ? FOLLOW_TICKS : 0,
        changes: s.changes,
      };
      this.state.set(s.name, st);
    }
    st.seq++;
    st.sentAt = now;
    st.changes = s.changes;
    const inFlight: Record<string, number> = {};
    const n = Math.min(s.replicas.length, MAX_REPORT_REPLICAS);
    for (let i = 0; i < n; i++) {
      const r = s.replicas[i];
      inFlight[String(r.id)] = r.inFlight;
    }
    return {
      schema: LOAD_SCHEMA_VERSION,
      proxy_id: this.proxyId,
      service: s.name,
      seq: st.seq,
      interval_ms: this.intervalMs,
      next_ms: quiet ? this.heartbeatMs : this.intervalMs,
      requests,
      in_flight: inFlight,
      held: Math.min(held, MAX_REQUESTS),
      sent_at: sentAt,
    };
  }
}

/** A fixed share in [0, 1) per name (FNV-1a): where in the heartbeat its report falls. */
function spread(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 2 ** 32;
}

/** Something to report: requests since the last report, or requests held or in flight now. */
function busy(s: ServiceLoad, held: number, requests: number): boolean {
  if (requests > 0 || held > 0) return true;
  for (const r of s.replicas) if (r.inFlight > 0) return true;
  return false;
}

/**
 * A proxy process's id in its reports: `<host>:<pid>` (each cluster worker is a process of its
 * own and reports for itself), with anything the contract does not allow in a host name
 * replaced by `-`.
 */
export function proxyIdOf(host: string, pid: number): string {
  const h = host.replace(/[^A-Za-z0-9._@/-]/g, "-").slice(0, 100) || "proxy";
  return `${h}:${pid}`;
}
