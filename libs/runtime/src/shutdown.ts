import type { Logger } from "@switchyard/bus";

/**
 * One step of a shutdown. `run` does the work; its result is ignored and a throw is logged and
 * skipped (the next steps still run, the exit stays 0). A step whose outcome decides the exit
 * status (a cluster primary whose workers drained, or did not) uses `exitCode` instead: the
 * process exits with the highest code any step returned, 1 for one that threw.
 */
export type ShutdownStep =
  | { name: string; run: () => Promise<unknown> | unknown }
  | { name: string; exitCode: () => Promise<number> | number };

export interface ShutdownOptions {
  /** A step still running this long after the signal exits 1 (default 30 s). */
  graceMs?: number;
  /** How the process ends: main.ts passes process.exit (only a main.ts exits; pnpm lint checks it). */
  exit: (code: number) => void;
}

/**
 * On SIGTERM or SIGINT run the steps in order (stop taking work, drain HTTP, drain NATS),
 * each logged, then exit 0 (or the highest code an `exitCode` step gave). A second SIGINT (Ctrl-C
 * pressed again) or a step hanging past `graceMs` exits 1. A second SIGTERM is only logged: a
 * SIGTERM sent to a whole process group (systemd, `kill -- -PGID`, a test harness) reaches a
 * cluster worker both directly and from its primary, and must not turn a clean drain into exit 1.
 * Returns a function that removes the signal handlers.
 */
export function onShutdown(logger: Logger, steps: ShutdownStep[], options: ShutdownOptions): () => void {
  const { graceMs = 30_000, exit } = options;
  let started = false;
  const handler = async (signal: NodeJS.Signals) => {
    if (started) {
      if (signal === "SIGTERM") {
        logger.info({ signal }, "already shutting down");
        return;
      }
      logger.warn({ signal }, "second signal: exiting now");
      exit(1);
      return;
    }
    started = true;
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({ graceMs }, "shutdown took too long: exiting");
      exit(1);
    }, graceMs);
    timer.unref();
    let code = 0;
    for (const s of steps) {
      try {
        if ("exitCode" in s) {
          const c = await s.exitCode();
          code = Math.max(code, c);
          logger.info({ step: s.name, code: c }, "shutdown step done");
        } else {
          await s.run();
          logger.info({ step: s.name }, "shutdown step done");
        }
      } catch (err) {
        if ("exitCode" in s) code = Math.max(code, 1);
        logger.warn({ step: s.name, err: String(err) }, "shutdown step failed");
      }
    }
    clearTimeout(timer);
    logger.info({ code }, "stopped");
    exit(code);
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  return () => {
    process.off("SIGTERM", handler);
    process.off("SIGINT", handler);
  };
}
