import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { processAlive } from "@switchyard/runtime";

/**
 * Run `fn` holding a lock file (its holder's pid inside): one build or one `up` at a time on a
 * machine. A lock whose holder is gone is taken over; a live one is waited for.
 */
export async function withLock<T>(
  path: string,
  say: (s: string) => void,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  let told = false;
  for (;;) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let holder = 0;
      try {
        holder = Number(readFileSync(path, "utf8"));
      } catch {}
      if (!processAlive(holder)) {
        rmSync(path, { force: true });
        continue;
      }
      if (!told) say(`waiting for ${what} (pid ${holder}, lock ${path})`);
      told = true;
      // Another process holds it; nothing to await but its exit, which no event reports here.
      await delay(1000);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
