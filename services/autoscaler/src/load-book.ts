// @pure: no I/O (tools/lint-boundaries checks it)
import { type LoadReport, nextReportMs } from "@switchyard/contracts";
import { QpsWindow } from "./qps-window.js";

/**
 * How much the autoscaler may trust a service's QPS now:
 * - none: it has listened for less than the warm-up (it just started, or NATS just came back):
 *   no decision from load at all.
 * - partial: reports arrive, but some of the window is missing (it started or reconnected less
 *   than a window ago, a proxy's reports were lost, a proxy went silent): it may scale up on
 *   what it sees, never down.
 * - full: a whole window of every proxy's reports: every decision.
 */
export type Evidence = "none" | "partial" | "full";

export interface LoadView {
  /** Requests per second: each proxy's count over the part of the window it covers, summed. */
  qps: number;
  /** Requests held now at zero replicas, over the proxies that report. */
  held: number;
  /** Requests in flight now, over the proxies that report. */
  inFlight: number;
  /** Proxies whose reports are in the window. */
  proxies: number;
  evidence: Evidence;
}

export interface BookOptions {
  windowMs: number;
  /** How long to listen after a start or reconnect before deciding anything from load. */
  warmupMs: number;
  /** A proxy is silent (data missing) after this many times its last report's `next_ms` without one. */
  staleIntervals?: number;
  /** Caps against a flood of names: proxies per service, services without a route. */
  maxProxies?: number;
  maxServices?: number;
}

/** The shortest span a rate is measured over: shorter samples are noise, not load. */
export const MIN_SPAN_MS = 1_000;

export type ReportResult = "ok" | "duplicate" | "too_many_proxies" | "too_many_services";

interface ProxyLoad {
  window: QpsWindow;
  /** Since when this proxy's reports are complete (no gap); the window counts only after it. */
  coveredFrom: number;
  /** Seen from its first report (seq 1): nothing of it can be missing. */
  born: boolean;
  lastAt: number;
  lastSeq: number;
  intervalMs: number;
  /** Its last report's promise of the next (`next_ms`: the interval while busy, a heartbeat once quiet). */
  nextMs: number;
  held: number;
  inFlight: number;
}

/**
 * Every proxy's load reports per service, and how complete they are. The QPS equals SkyServe's
 * (requests in the last window / window) once every proxy has reported for a whole window; a
 * proxy seen for less (the autoscaler just started, reports were lost) counts its requests over
 * the part it covers, so a restart never reads as a drop in load.
 */
export class LoadBook {
  private readonly services = new Map<string, Map<string, ProxyLoad>>();
  /** When listening (re)started; null while the NATS connection is down. */
  private listeningSince: number | null;
  private readonly staleIntervals: number;
  private readonly maxProxies: number;
  private readonly maxServices: number;

  constructor(
    private readonly o: BookOptions,
    now: number,
  ) {
    this.listeningSince = now;
    this.staleIntervals = o.staleIntervals ?? 3;
    this.maxProxies = o.maxProxies ?? 256;
    // The fleet is 10k services; every routed one is reported at least once a heartbeat.
    this.maxServices = o.maxServices ?? 50_000;
  }

  /** The connection is down: reports are being lost from now. */
  connectionLost(): void {
    this.listeningSince = null;
  }

  /** The connection is back: listen again from `now` (what was lost shows as gaps in `seq`). */
  connectionBack(now: number): void {
    this.listeningSince = now;
  }

  /** Listened for the whole warm-up (a hot standby's book can be warm before it leads). */
  warm(now: number): boolean {
    return this.listeningSince !== null && now - this.listeningSince >= this.o.warmupMs;
  }

  report(r: LoadReport, now: number): ReportResult {
    let proxies = this.services.get(r.service);
    if (!proxies) {
      if (this.services.size >= this.maxServices) return "too_many_services";
      proxies = new Map();
      this.services.set(r.service, proxies);
    }
    let p = proxies.get(r.proxy_id);
    if (!p) {
      if (proxies.size >= this.maxProxies) return "too_many_proxies";
      p = {
        window: new QpsWindow(this.o.windowMs),
        coveredFrom: now - r.interval_ms,
        born: r.seq === 1,
        lastAt: now,
        lastSeq: 0,
        intervalMs: r.interval_ms,
        nextMs: nextReportMs(r),
        held: 0,
        inFlight: 0,
      };
      proxies.set(r.proxy_id, p);
    } else if (r.seq === 1) {
      // The proxy restarted under the same id: its count starts again, nothing was skipped.
    } else if (r.seq <= p.lastSeq) {
      return "duplicate";
    } else if (r.seq > p.lastSeq + 1) {
      // Reports were lost: the window no longer tells this proxy's rate; start it again.
      p.window.clear();
      p.coveredFrom = now - r.interval_ms;
      p.born = false;
    }
    p.window.add(now, r.requests);
    p.lastAt = now;
    p.lastSeq = r.seq;
    p.intervalMs = r.interval_ms;
    p.nextMs = nextReportMs(r);
    p.held = r.held;
    p.inFlight = Object.values(r.in_flight).reduce((a, b) => a + b, 0);
    return "ok";
  }

  /**
   * Forget proxies with no report in the window (or, for a quiet one reported by heartbeat, in
   * as long as it may stay silent), and services with no proxy left. A quiet proxy kept this
   * way, busy again, continues its `seq`: its window was zeros, fully covered, not missing.
   */
  prune(now: number): void {
    for (const [service, proxies] of this.services) {
      for (const [id, p] of proxies)
        if (p.lastAt <= now - Math.max(this.o.windowMs, this.staleIntervals * p.nextMs)) proxies.delete(id);
      if (proxies.size === 0) this.services.delete(service);
    }
  }

  /** Services with reports in the window. */
  reported(): string[] {
    return [...this.services.keys()];
  }

  view(service: string, now: number): LoadView {
    const { windowMs } = this.o;
    let qps = 0;
    let held = 0;
    let inFlight = 0;
    let complete = true;
    let proxies = 0;
    for (const p of this.services.get(service)?.values() ?? []) {
      if (p.lastAt <= now - windowMs) continue;
      proxies++;
      // Requests over the part of the window this proxy's reports cover (all of it once it has
      // reported for a window), but never less than MIN_SPAN_MS: one request in a proxy's first
      // 200 ms report is not 5 QPS (that took a service at zero straight to max_replicas).
      const floor = Math.min(windowMs, Math.max(p.intervalMs, MIN_SPAN_MS));
      const span = Math.max(floor, Math.min(windowMs, now - p.coveredFrom));
      qps += (p.window.count(now) * 1000) / span;
      const silent = now - p.lastAt > this.staleIntervals * p.nextMs;
      if (silent || (!p.born && p.coveredFrom > now - windowMs)) complete = false;
      if (!silent) {
        held += p.held;
        inFlight += p.inFlight;
      }
    }
    const listened = this.listeningSince === null ? -1 : now - this.listeningSince;
    // A whole window of listening also means every proxy that reports at all has been seen.
    const evidence: Evidence = !this.warm(now)
      ? "none"
      : listened >= windowMs && complete
        ? "full"
        : "partial";
    return { qps, held, inFlight, proxies, evidence };
  }
}
