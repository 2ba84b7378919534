import type { LoadReport } from "@switchyard/contracts";
import { drainVerdict, ProxyLoads } from "./drain.js";

export type DrainOutcome =
  | { outcome: "idle" | "timeout"; inFlight: number; waitedMs: number }
  /** The provisioner is stopping: the drain was not finished. */
  | { outcome: "aborted"; inFlight: number | null; waitedMs: number };

export interface DrainRequest {
  service: string;
  id: number;
  /** Epoch ms it left the rotation, and when it is stopped at the latest. */
  since: number;
  deadline: number;
  /** The in-flight count the proxies report changed (null: none heard yet). */
  progress(inFlight: number | null): void;
}

interface Waiting {
  key: string;
  req: DrainRequest;
  resolve(o: DrainOutcome): void;
  timer: NodeJS.Timeout | null;
  lastInFlight: number | null | undefined;
  /** A round trip (`heardAll`) is on its way before an "idle" verdict is acted on. */
  confirming: boolean;
}

/**
 * The waiting half of a drain (the deciding half is drain.ts): hears the proxies' load reports
 * and resolves each drain when drainVerdict says so, re-asking on every report for its service
 * and at the time the verdict may change by itself (a proxy falls silent, the deadline).
 */
export class Drainer {
  private readonly loads: ProxyLoads;
  private readonly waiting = new Map<string, Waiting>();

  constructor(
    private readonly o: {
      now: () => number;
      /** How long to listen before "no report" means "no proxy" (SILENT intervals × YARD_PROXY_REPORT_MS). */
      warmupMs: number;
      /**
       * Resolves once every report the bus had for this process before the call has been heard
       * (a round trip to the server). An "idle" verdict is acted on only after one: a stall of
       * this process (its event loop busy, say scanning the host at a restart, with reports
       * unread in its socket) must not pass for the proxies' silence. Absent: acted on at once.
       */
      heardAll?: () => Promise<void>;
    },
  ) {
    this.loads = new ProxyLoads(o.now());
  }

  report(r: LoadReport): void {
    this.loads.report(r, this.o.now());
    for (const w of this.waiting.values()) if (w.req.service === r.service) this.check(w);
  }

  /**
   * Listening (again) from now: NATS came back (reports were missed meanwhile), or the
   * subscription just reached the server. A warm-up again before trusting silence.
   */
  connectionBack(): void {
    this.loads.listeningSince = this.o.now();
    for (const w of this.waiting.values()) this.check(w);
  }

  /** Resolves when the replica may be stopped (or the provisioner stops: `abort`). */
  wait(key: string, req: DrainRequest): Promise<DrainOutcome> {
    const before = this.waiting.get(key);
    if (before) this.finish(before, { outcome: "aborted", inFlight: null, waitedMs: 0 });
    return new Promise((resolve) => {
      const w: Waiting = { key, req, resolve, timer: null, lastInFlight: undefined, confirming: false };
      this.waiting.set(key, w);
      this.check(w);
    });
  }

  /** End every wait now (the provisioner stops). */
  abortAll(): void {
    for (const w of this.waiting.values()) {
      this.finish(w, {
        outcome: "aborted",
        inFlight: w.lastInFlight ?? null,
        waitedMs: this.o.now() - w.req.since,
      });
    }
  }

  get size(): number {
    return this.waiting.size;
  }

  /** `confirmed`: asked right after a `heardAll` round trip that began after an "idle" verdict. */
  private check(w: Waiting, confirmed = false): void {
    if (w.confirming && !confirmed) return; // the round trip's answer asks again
    const now = this.o.now();
    const { req } = w;
    const v = drainVerdict(
      {
        id: req.id,
        since: req.since,
        deadline: req.deadline,
        now,
        listeningSince: this.loads.listeningSince,
        warmupMs: this.o.warmupMs,
      },
      this.loads.of(req.service),
    );
    if (this.waiting.get(w.key) !== w) return;
    w.confirming = false;
    if (v.done && v.outcome === "idle" && this.o.heardAll && !confirmed) {
      w.confirming = true;
      if (w.timer) clearTimeout(w.timer);
      const again = () => this.check(w, true);
      this.o.heardAll().then(again, again);
      return;
    }
    if (v.done) {
      this.finish(w, { outcome: v.outcome, inFlight: v.inFlight, waitedMs: now - req.since });
      return;
    }
    if (v.inFlight !== w.lastInFlight) {
      w.lastInFlight = v.inFlight;
      req.progress(v.inFlight);
    }
    if (w.timer) clearTimeout(w.timer);
    w.timer = setTimeout(() => this.check(w), Math.max(0, v.recheckAt - now) + 1);
  }

  private finish(w: Waiting, o: DrainOutcome): void {
    if (w.timer) clearTimeout(w.timer);
    if (this.waiting.get(w.key) === w) this.waiting.delete(w.key);
    w.resolve(o);
  }
}
