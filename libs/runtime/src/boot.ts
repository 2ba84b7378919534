import { formatError, YardError } from "@switchyard/contracts";
import type { Pino } from "./logger.js";

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
