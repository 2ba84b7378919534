import { formatError, YardError } from "@switchyard/contracts";
import type { Pino } from "./logger.js";
import { onShutdown, type ShutdownStep } from "./shutdown.js";

/** How a program ends: main.ts passes `process.exit`; nothing below main.ts exits by itself. */
export type Exit = (code: number) => never;

/**
 * A service's config, parsed once at start. An invalid value is fatal: the error names the env
 * var (never its value) and the service exits 1 through `exit` before touching the bus.
 */
export function loadConfigOrExit<C extends { LOG_LEVEL: string }>(
  logger: Pino,
  load: () => C,
  exit: Exit,
): C {
  try {
    const config = load();
    logger.level = config.LOG_LEVEL;
    return config;
  } catch (err) {
    const code = err instanceof YardError ? err.code : "SY_ERR_CONFIG";
    logger.fatal({ code, err: formatError(err as Error) }, "invalid configuration");
    return exit(1);
  }
}

/**
 * Start a service and stop it on SIGTERM/SIGINT: the shutdown runs `app.stop()` (as step
 * `stopStep`), then `after` (drain NATS). A start that fails is fatal (exit 1), unless a signal
 * came first: stop() aborts a start that still waits for its buckets, and the shutdown exits.
 */
export async function startOrExit(
  logger: Pino,
  app: { start(): Promise<void>; stop(): Promise<void> },
  o: { what: string; stopStep: string; after: ShutdownStep[]; exit: Exit },
): Promise<void> {
  let stopping = false;
  const stop = () => {
    stopping = true;
    return app.stop();
  };
  onShutdown(logger, [{ name: o.stopStep, run: stop }, ...o.after], { exit: o.exit });
  try {
    await app.start();
  } catch (err) {
    if (stopping) return;
    logger.fatal({ err: String(err) }, `${o.what} failed to start`);
    o.exit(1);
  }
}
