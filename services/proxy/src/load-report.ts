// @pure: no I/O (tools/lint-boundaries checks it)
import { LOAD_SCHEMA_VERSION, type LoadReport, MAX_REPORT_REPLICAS } from "@switchyard/contracts";

/** What a report says about one service's replicas (a route-table ServiceEntry is one). */
export interface ServiceLoad {
  readonly name: string;
  readonly replicas: readonly { readonly id: number; readonly inFlight: number }[];
}

/** The most `requests` one report may carry (the contract's bound; a count over it is capped). */
const MAX_REQUESTS = 1_000_000_000;

/**
 * One proxy's load reports (`LoadReport`, sent batched on `yard.load`, read by the autoscaler).
 * The data plane calls `request` once per request it resolved to a service, before any attempt:
 * a retry is not a new request (SkyServe's load balancer records one timestamp per request).
 * Every interval `tick` gives one report per service the proxy routes, zeros included, so that
 * the autoscaler reads silence as missing data, never as no load. `demand` gives one at once
 * when a request is held at zero replicas, at most one per service between two ticks: the
 * autoscaler scales 0 → 1 on the first, and the held count is in every tick's reports after it.
 */
export class LoadReports {
  /** Requests since the service's last report. */
  private readonly counts = new Map<string, number>();
  /** The last `seq` sent per service (1 is a service's first report from this process). */
  private readonly seqs = new Map<string, number>();
  /** Services given an early report since the last tick. */
  private readonly early = new Set<string>();

  constructor(
    readonly proxyId: string,
    readonly intervalMs: number,
  ) {}

  request(service: string): void {
    this.counts.set(service, (this.counts.get(service) ?? 0) + 1);
  }

  /**
   * The interval's reports: every service routed now, then any that had requests and has left
   * the table since (its last count is not lost). A service no longer routed is forgotten: if it
   * comes back, its reports start again at seq 1, as after a restart.
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
      yield this.report(s, held(s.name), sentAt);
    }
    for (const name of [...this.counts.keys()])
      if (!routed.has(name)) yield this.report({ name, replicas: [] }, held(name), sentAt);
    for (const name of [...this.seqs.keys()]) if (!routed.has(name)) this.seqs.delete(name);
  }

  /** A report now for a service whose first request was just held; null if one went out early already. */
  demand(s: ServiceLoad, held: number, now: number): LoadReport | null {
    if (this.early.has(s.name)) return null;
    this.early.add(s.name);
    return this.report(s, held, new Date(now).toISOString());
  }

  private report(s: ServiceLoad, held: number, sentAt: string): LoadReport {
    const seq = (this.seqs.get(s.name) ?? 0) + 1;
    this.seqs.set(s.name, seq);
    const requests = Math.min(this.counts.get(s.name) ?? 0, MAX_REQUESTS);
    this.counts.delete(s.name);
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
      seq,
      interval_ms: this.intervalMs,
      requests,
      in_flight: inFlight,
      held: Math.min(held, MAX_REQUESTS),
      sent_at: sentAt,
    };
  }
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
