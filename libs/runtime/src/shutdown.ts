import type { Logger } from "@switchyard/bus";

export type ShutdownStep = { name: string; run: () => Promise<unknown> | unknown };

/**
 * On SIGTERM or SIGINT run the steps in order (stop taking work, drain HTTP, drain NATS),
 * each logged, then exit 0. A second signal or a step hanging past `graceMs` exits 1.
 */
export function onShutdown(logger: Logger, steps: ShutdownStep[], graceMs = 30_000): void {
  let started = false;
  const handler = async (signal: NodeJS.Signals) => {
    if (started) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    started = true;
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({ graceMs }, "shutdown took too long: exiting");
      process.exit(1);
    }, graceMs);
    timer.unref();
    for (const s of steps) {
      try {
        await s.run();
        logger.info({ step: s.name }, "shutdown step done");
      } catch (err) {
        logger.warn({ step: s.name, err: String(err) }, "shutdown step failed");
      }
    }
    logger.info({}, "stopped");
    process.exit(0);
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
}
