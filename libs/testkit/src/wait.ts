import { type KV, silentLogger, watchBucket } from "@switchyard/bus";
import { z } from "zod";

/**
 * Await a KV condition through a watch (no polling): resolves with the map of matching keys'
 * values once `done(map)` holds. `map` holds the current value of every key matching `key` (a
 * NATS subject pattern: `*` one token, `>` the rest; default every key).
 *
 * `done` is first asked once the watch's initial snapshot is complete (`ready`), then after each
 * later change: never on a partly delivered snapshot, where a key not yet delivered would look
 * absent (a "no such key" or "every key is X" condition would pass on stale data).
 */
export function waitForKey<T = unknown>(
  kv: KV,
  done: (entries: Map<string, T>) => boolean,
  opts: { key?: string; timeoutMs?: number; what?: string } = {},
): Promise<Map<string, T>> {
  const pattern = opts.key ?? ">";
  const state = new Map<string, T>();
  return new Promise((resolve, reject) => {
    let settled = false;
    let snapshotDone = false;
    const check = () => {
      if (!settled && snapshotDone && done(state)) {
        settled = true;
        clearTimeout(timer);
        w.stop();
        resolve(state);
      }
    };
    // The whole bucket is watched and keys are filtered here: watchBucket's `ready` marks the
    // end of the snapshot at the stream's last sequence, which a filtered watch never reaches
    // when that last message belongs to a key outside the filter.
    const w = watchBucket(
      kv,
      z.unknown(),
      (c) => {
        if (!keyMatches(pattern, c.key)) return;
        // Values are not validated here: T is whatever the caller's predicate reads.
        if (c.op === "put") state.set(c.key, c.value as T);
        else state.delete(c.key);
        check();
      },
      silentLogger,
    );
    void w.ready.then(() => {
      snapshotDone = true;
      check();
    });
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      w.stop();
      reject(
        new Error(
          `timed out waiting for ${opts.what ?? "KV condition"} (snapshot ${snapshotDone ? "complete" : "incomplete"}); keys: ${JSON.stringify([...state.keys()])}`,
        ),
      );
    }, opts.timeoutMs ?? 30_000);
  });
}

/** NATS subject matching of a KV key against a pattern: `*` matches one token, `>` one or more. */
export function keyMatches(pattern: string, key: string): boolean {
  const p = pattern.split(".");
  const k = key.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return k.length > i;
    if (i >= k.length || (p[i] !== "*" && p[i] !== k[i])) return false;
  }
  return p.length === k.length;
}
