/**
 * When to probe: every replica on each tick of the interval, at most one probe in flight per
 * replica, at most `concurrency` probes in flight in all. `kick` probes a replica at once (new
 * replica, or a proxy's hint); a kick during a probe queues exactly one more, so a burst of
 * hints costs one extra probe. Timers are injected so the scheduling is testable without time.
 */

export interface Timers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const realTimers: Timers = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

export interface ProbeLoopDeps {
  intervalMs: number;
  /**
   * A second, faster tick for replicas that have never passed a probe (`dueStarting`): a
   * replica that finishes loading is routed within this, not within `intervalMs`. A probe of a
   * port nobody listens on yet costs one refused connection.
   */
  startingIntervalMs?: number;
  concurrency: number;
  timers?: Timers;
  /** Keys to probe on a tick. */
  due(): Iterable<string>;
  /** Keys to probe on a tick of `startingIntervalMs` (never ready yet). */
  dueStarting?(): Iterable<string>;
  /** Probe one replica and apply the verdict. */
  probeOnce(key: string): Promise<void>;
  onError(key: string, err: unknown): void;
}

export interface ProbeLoop {
  start(): void;
  kick(key: string): void;
  /** Stop ticking and starting probes; resolves when the probes in flight have finished. */
  stop(): Promise<void>;
  inFlight(): number;
}

export function createProbeLoop(d: ProbeLoopDeps): ProbeLoop {
  const timers = d.timers ?? realTimers;
  const running = new Set<string>();
  const again = new Set<string>();
  const pending = new Set<Promise<void>>();
  const waiting: (() => void)[] = [];
  let active = 0;
  let stopped = false;
  let handle: unknown = null;
  let fastHandle: unknown = null;

  const acquire = async () => {
    if (active < d.concurrency) {
      active++;
      return;
    }
    // The releasing probe hands its slot over: `active` stays the same.
    await new Promise<void>((r) => waiting.push(r));
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };

  const run = (key: string) => {
    running.add(key);
    const p = (async () => {
      await acquire();
      try {
        if (!stopped) await d.probeOnce(key);
      } catch (err) {
        d.onError(key, err);
      } finally {
        release();
        running.delete(key);
      }
      if (!stopped && again.delete(key)) run(key);
    })();
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const probeAll = (keys: Iterable<string>) => {
    if (stopped) return;
    for (const key of keys) if (!running.has(key)) run(key);
  };
  const tick = () => probeAll(d.due());
  const fastTick = () => probeAll(d.dueStarting?.() ?? []);

  return {
    start() {
      if (handle !== null || stopped) return;
      handle = timers.setInterval(tick, d.intervalMs);
      if (d.startingIntervalMs && d.dueStarting && d.startingIntervalMs < d.intervalMs)
        fastHandle = timers.setInterval(fastTick, d.startingIntervalMs);
    },
    kick(key) {
      if (stopped) return;
      if (running.has(key)) again.add(key);
      else run(key);
    },
    async stop() {
      stopped = true;
      if (handle !== null) timers.clearInterval(handle);
      if (fastHandle !== null) timers.clearInterval(fastHandle);
      again.clear();
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    inFlight: () => running.size,
  };
}
