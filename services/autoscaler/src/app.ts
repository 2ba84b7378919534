import type { Fence, Logger, NatsConnection } from "@switchyard/bus";
import type { LoadReport, YardEvent } from "@switchyard/contracts";
import type { Registry } from "prom-client";
import { openEvents, openScale, type ScaleStore, watchInputs } from "./bus.js";
import type { AutoscalerConfig } from "./config.js";
import { type Hearing, hear } from "./hearing.js";
import { AutoscalerMetrics } from "./metrics.js";
import { type Effect, Scaler } from "./scaler.js";

export interface AutoscalerDeps {
  nc: NatsConnection;
  logger: Logger;
  config: Pick<
    AutoscalerConfig,
    | "YARD_AUTOSCALER_INTERVAL_MS"
    | "YARD_AUTOSCALER_QPS_WINDOW_S"
    | "YARD_AUTOSCALER_WARMUP_MS"
    | "YARD_AUTOSCALER_REFRESH_MS"
  >;
  now?: () => number;
  /** The lease's fence: yard-scale is written only while this instance holds it (default: always). */
  fence?: Fence;
  /**
   * The load reports this process has heard while standing by (main.ts's hot standby): its
   * window is warm already. By default the app hears them itself from when it is built.
   */
  hearing?: Hearing;
}

export interface AutoscalerApp {
  /** This term's Prometheus registry (main.ts serves it while the app leads). */
  readonly registry: Registry;
  /** Load yard-scale and the snapshots, listen to the proxies, decide every interval; logs "ready". */
  start(): Promise<void>;
  /** Stop deciding, finish the write in flight and its event (NATS is left to the caller). */
  stop(): Promise<void>;
}

export function build(deps: AutoscalerDeps): AutoscalerApp {
  const { nc, logger, config } = deps;
  const now = deps.now ?? Date.now;
  const abort = new AbortController();
  const hearing = deps.hearing ?? hear(nc, logger, config, now);
  const scaler = new Scaler(
    {
      windowMs: config.YARD_AUTOSCALER_QPS_WINDOW_S * 1000,
      warmupMs: config.YARD_AUTOSCALER_WARMUP_MS,
      refreshMs: config.YARD_AUTOSCALER_REFRESH_MS,
    },
    now(),
    hearing.book,
  );
  const metrics = new AutoscalerMetrics(() => scaler.views(now()));
  const stops: (() => void)[] = [];
  let store: ScaleStore | null = null;
  let publish: ((ev: YardEvent) => Promise<void>) | null = null;
  let timer: NodeJS.Timeout | undefined;
  // One write at a time, in decision order; a tick is skipped while the last is still writing.
  let work: Promise<void> = Promise.resolve();
  let ticking = false;
  const urgent = new Set<string>();
  const lastDropWarn = new Map<string, number>();

  async function apply(effects: Effect[]): Promise<void> {
    for (const e of effects) {
      if (e.type === "unmanaged") {
        logger.warn({ service: e.service, revision: e.revision }, `not autoscaled: ${e.message}`);
        continue;
      }
      const service = e.type === "put" ? e.record.service : e.service;
      try {
        if (e.type === "delete") {
          await store!.delete(e.service);
          scaler.removed(e.service);
          logger.info({ service }, "service removed: its yard-scale record deleted");
          continue;
        }
        await store!.put(e.record);
        scaler.stored(e.record);
        if (!e.event) continue;
        const { from, to, reason, qps } = e.event;
        metrics.decided(service, reason);
        // warm: decided on a window heard for the warm-up (at a takeover: heard while standing by).
        const warm = scaler.book.warm(now());
        logger.info({ service, from, to, reason, qps, revision: e.event.revision, warm }, "decided");
        // In decision order, after the record it reports landed; a lost event is only logged.
        await publish!(e.event).catch((err) =>
          logger.warn({ service, type: e.event?.type, err: String(err) }, "event not published"),
        );
      } catch (err) {
        logger.warn({ service, err: String(err) }, "writing yard-scale failed; decided again next interval");
      }
    }
  }

  function schedule(decideNow: () => Effect[]): void {
    // A throw here is a bug; it must not stop every later decision (a rejected chain would).
    work = work
      .then(() => apply(decideNow()))
      .catch((err) => logger.error({ err: String(err) }, "deciding failed"));
  }

  function tick(): void {
    if (ticking) return;
    ticking = true;
    schedule(() => scaler.decideAll(now()));
    void work.finally(() => {
      ticking = false;
    });
  }

  function onReport(r: LoadReport): void {
    const { result, urgent: decideNow } = scaler.report(r, now());
    metrics.report(result);
    if (result !== "ok" && result !== "duplicate") {
      // A flood of names: say so now and then, not per report.
      const t = now();
      if (t - (lastDropWarn.get(result) ?? -Infinity) >= 10_000) {
        lastDropWarn.set(result, t);
        logger.warn({ result, service: r.service, proxy: r.proxy_id }, "load report dropped");
      }
    }
    // Requests wait at zero replicas, or load rose where scaling up has no delay: decide this
    // service now, not at the next tick.
    if (decideNow && !urgent.has(r.service)) {
      urgent.add(r.service);
      schedule(() => {
        urgent.delete(r.service);
        return scaler.decideOne(r.service, now());
      });
    }
  }

  return {
    registry: metrics.registry,
    async start() {
      const { signal } = abort;
      const scale = await openScale(nc, logger, signal, deps.fence);
      store = scale.store;
      for (const rec of scale.existing) scaler.stored(rec);
      publish = await openEvents(nc, logger, signal);
      // Reports count from the start; decisions wait for the snapshots (a service missing from
      // a half-loaded snapshot would have its record deleted).
      hearing.handle(onReport);
      // Back to standing by: the book goes on hearing, warm for a next term.
      stops.push(() => hearing.handle(null));
      if (!deps.hearing) stops.push(() => hearing.stop());
      const inputs = await watchInputs(
        nc,
        { route: (n, r) => scaler.setRoute(n, r), replica: (k, r) => scaler.setReplica(k, r) },
        logger,
        signal,
      );
      stops.push(() => inputs.stop());
      await inputs.ready;
      if (signal.aborted) return;
      timer = setInterval(tick, config.YARD_AUTOSCALER_INTERVAL_MS);
      tick();
      logger.info(
        {
          records: scale.existing.length,
          windowS: config.YARD_AUTOSCALER_QPS_WINDOW_S,
          warmupMs: config.YARD_AUTOSCALER_WARMUP_MS,
          // Warm: heard the proxies for the warm-up already (while standing by), so it decides now.
          warm: scaler.book.warm(now()),
        },
        "ready",
      );
    },

    async stop() {
      abort.abort();
      clearInterval(timer);
      for (const s of stops) s();
      await work;
    },
  };
}
