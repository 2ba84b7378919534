// @pure: no I/O (tools/lint-boundaries checks it)
import { type LoadReport, nextReportMs, SILENT_REPORT_INTERVALS } from "@switchyard/contracts";

/**
 * A report counts for a drain only once the proxy has had time to take the replica out of its
 * rotation: the endpoint's `draining` reaches it through the prober's write and its own watch
 * (milliseconds), so a report at least one interval (and this much) after the drain began was
 * made by a proxy that no longer picks the replica. Requests it picked before are in the count.
 */
export const DRAIN_SETTLE_MS = 500;

/** The most proxies remembered per service (reports come only from proxies; a bound anyway). */
const MAX_PROXIES = 1024;

/** The latest report of one proxy for one service, as heard. */
export interface HeardReport {
  at: number;
  intervalMs: number;
  /** The report's promise of the next (`next_ms`): the interval while busy, a heartbeat once quiet. */
  nextMs: number;
  inFlight: Readonly<Record<string, number>>;
}

/**
 * The proxies' latest load reports per service (LoadReports, batched on yard.load): what a
 * drain waits on. Only the latest report of each proxy matters: in-flight counts are "now".
 */
export class ProxyLoads {
  private readonly byService = new Map<string, Map<string, HeardReport>>();

  /** Listening since `since` (a start, or NATS back after an outage: reports were missed). */
  constructor(public listeningSince: number) {}

  report(r: LoadReport, now: number): void {
    let proxies = this.byService.get(r.service);
    if (!proxies) {
      proxies = new Map();
      this.byService.set(r.service, proxies);
    }
    if (!proxies.has(r.proxy_id)) {
      for (const [id, p] of proxies) if (silent(p, now)) proxies.delete(id);
      if (proxies.size >= MAX_PROXIES) return;
    }
    proxies.set(r.proxy_id, {
      at: now,
      intervalMs: r.interval_ms,
      nextMs: nextReportMs(r),
      inFlight: r.in_flight,
    });
  }

  of(service: string): ReadonlyMap<string, HeardReport> {
    return this.byService.get(service) ?? new Map();
  }
}

/**
 * A proxy silent for SILENT_REPORT_INTERVALS times its last report's `next_ms` is gone, its
 * requests with it. One whose last report was quiet (nothing in flight) promised its next only
 * by its heartbeat, but it reports within an interval of taking a replica out of rotation.
 */
function silent(p: HeardReport, now: number): boolean {
  return now >= silentAt(p);
}
function silentAt(p: HeardReport): number {
  return p.at + SILENT_REPORT_INTERVALS * p.nextMs;
}

export interface DrainQuery {
  /** The replica's id (the key of `in_flight` in reports). */
  id: number;
  /** When it was taken out of rotation. */
  since: number;
  /** YARD_DRAIN_TIMEOUT_S after `since`. */
  deadline: number;
  now: number;
  /** When the provisioner started hearing reports (ProxyLoads.listeningSince). */
  listeningSince: number;
  /**
   * How long to listen before "no proxy reports" may mean "no proxy": every running proxy has
   * reported by then (SILENT_REPORT_INTERVALS × the proxies' YARD_PROXY_REPORT_MS).
   */
  warmupMs: number;
}

export type DrainVerdict =
  | { done: false; inFlight: number | null; waitingOn: number; recheckAt: number }
  | { done: true; outcome: "idle" | "timeout"; inFlight: number };

/**
 * Whether a draining replica may be stopped now. It may once every proxy that reports for its
 * service has said, in a report made after it took the replica out of rotation (DRAIN_SETTLE_MS),
 * that no request is in flight on it; a proxy that went silent counts as drained; with no proxy
 * at all, it may at once (after the warm-up: a provisioner that just started has heard none
 * yet). At `deadline` it may whatever the reports say (SkyServe's fixed drain, as a bound).
 * `recheckAt`: when the verdict may change without a new report (a proxy falls silent, the
 * warm-up or the deadline ends).
 */
export function drainVerdict(q: DrainQuery, proxies: ReadonlyMap<string, HeardReport>): DrainVerdict {
  const key = String(q.id);
  let inFlight = 0;
  let heard = false;
  let waitingOn = 0;
  let recheckAt = q.deadline;
  for (const p of proxies.values()) {
    if (silent(p, q.now)) continue;
    heard = true;
    const n = p.inFlight[key] ?? 0;
    inFlight += n;
    const counted = p.at >= q.since + Math.max(p.intervalMs, DRAIN_SETTLE_MS);
    if (counted && n === 0) continue;
    waitingOn++;
    recheckAt = Math.min(recheckAt, silentAt(p));
  }
  if (q.now >= q.deadline) return { done: true, outcome: "timeout", inFlight };
  const warm = q.listeningSince + q.warmupMs;
  if (q.now < warm) {
    waitingOn = Math.max(waitingOn, 1);
    recheckAt = Math.min(recheckAt, warm);
  }
  if (waitingOn === 0) return { done: true, outcome: "idle", inFlight: 0 };
  return { done: false, inFlight: heard ? inFlight : null, waitingOn, recheckAt };
}
