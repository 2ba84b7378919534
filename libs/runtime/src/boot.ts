import { formatError, YardError } from "@switchyard/contracts";
import type { Pino } from "./logger.js";

/**
 * A service's config, parsed once at start. An invalid value is fatal: the error names the env
 * var (never its value) and the process exits 1 before touching the bus.
 */
export function loadConfigOrExit<C extends { LOG_LEVEL: string }>(logger: Pino, load: () => C): C {
  try {
    const config = load();
    logger.level = config.LOG_LEVEL;
    return config;
  } catch (err) {
    const code = err instanceof YardError ? err.code : "SY_ERR_CONFIG";
    logger.fatal({ code, err: formatError(err as Error) }, "invalid configuration");
    process.exit(1);
  }
}
