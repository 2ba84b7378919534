import type { Logger, NatsConnection } from "@switchyard/bus";
import type { LoadReport } from "@switchyard/contracts";
import { listenReports, watchConnection } from "./bus.js";
import type { AutoscalerConfig } from "./config.js";
import { LoadBook } from "./load-book.js";

/**
 * The proxies' load reports, heard for the life of the process and not only while this
 * instance leads: a standby keeps its book (read-only, it writes nothing) so that on takeover
 * its window is warm and it decides at once instead of waiting a new warm-up. One
 * subscription throughout: swapping subscriptions at takeover could lose a report, and a gap
 * in a proxy's `seq` would clear that proxy's window.
 */
export interface Hearing {
  readonly book: LoadBook;
  /** While leading, the app's handler (which feeds `book` itself); null: back to standing by. */
  handle(fn: ((r: LoadReport) => void) | null): void;
  stop(): void;
}

export function hear(
  nc: NatsConnection,
  logger: Logger,
  config: Pick<AutoscalerConfig, "YARD_AUTOSCALER_QPS_WINDOW_S" | "YARD_AUTOSCALER_WARMUP_MS">,
  now: () => number = Date.now,
): Hearing {
  // Listening starts now: the warm-up and the first window count from here.
  const book = new LoadBook(
    { windowMs: config.YARD_AUTOSCALER_QPS_WINDOW_S * 1000, warmupMs: config.YARD_AUTOSCALER_WARMUP_MS },
    now(),
  );
  let handler: ((r: LoadReport) => void) | null = null;
  let saidWarm = false;
  // Said once while standing by, when the warm-up has passed (or at the first report after it,
  // if NATS was down then).
  function sayWarm(): void {
    if (saidWarm || handler || !book.warm(now())) return;
    saidWarm = true;
    logger.info(
      { warmupMs: config.YARD_AUTOSCALER_WARMUP_MS },
      "standing by warm: heard the proxies for the warm-up",
    );
  }
  const timer = setTimeout(sayWarm, config.YARD_AUTOSCALER_WARMUP_MS + 1);
  timer.unref();
  function standingBy(r: LoadReport): void {
    book.report(r, now());
    sayWarm();
  }
  const sub = listenReports(nc, (r) => (handler ?? standingBy)(r), logger);
  watchConnection(nc, {
    lost: () => book.connectionLost(),
    back: () => book.connectionBack(now()),
  });
  return {
    book,
    handle: (fn) => {
      handler = fn;
    },
    stop: () => {
      clearTimeout(timer);
      sub.stop();
    },
  };
}
