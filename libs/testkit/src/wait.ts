import { type KV, silentLogger, watchBucket } from "@switchyard/bus";
import { z } from "zod";

/**
 * Await a KV condition through a watch (no polling): resolves with the map of matching keys'
 * values once `done(map)` holds. `map` holds the current value of every key under `key`.
 */
export function waitForKey<T = unknown>(
  kv: KV,
  done: (entries: Map<string, T>) => boolean,
  opts: { key?: string; timeoutMs?: number; what?: string } = {},
): Promise<Map<string, T>> {
  const state = new Map<string, T>();
  return new Promise((resolve, reject) => {
    let settled = false;
    const check = () => {
      if (!settled && done(state)) {
        settled = true;
        clearTimeout(timer);
        w.stop();
        resolve(state);
      }
    };
    const w = watchBucket(
      kv,
      z.unknown(),
      (c) => {
        if (c.op === "put") state.set(c.key, c.value as T);
        else state.delete(c.key);
        if (!c.initial || settled === false) check();
      },
      silentLogger,
      opts.key ?? ">",
    );
    void w.ready.then(check);
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      w.stop();
      reject(
        new Error(
          `timed out waiting for ${opts.what ?? "KV condition"}; state: ${JSON.stringify([...state.keys()])}`,
        ),
      );
    }, opts.timeoutMs ?? 30_000);
  });
}
