import type { Logger } from "./logger.js";

/**
 * A warn that writes at most `burst` lines a second and counts the lines it held back (given
 * on the next line written): refusals come as fast as a consumer can deliver, and must not
 * fill the disk.
 */
export function throttled(logger: Logger, burst = 10, windowMs = 1_000): (obj: object, msg: string) => void {
  let windowStart = 0;
  let written = 0;
  let held = 0;
  return (obj, msg) => {
    const now = Date.now();
    if (now - windowStart >= windowMs) {
      windowStart = now;
      written = 0;
    }
    if (written >= burst) {
      held++;
      return;
    }
    written++;
    logger.warn({ ...obj, heldBack: held }, msg);
    held = 0;
  };
}
