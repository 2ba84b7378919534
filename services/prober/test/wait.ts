import { type KV, silentLogger, watchBucket } from "@switchyard/bus";
import { z } from "zod";

/**
 * Resolves with the bucket's keys once `done(keys)` holds for the bucket's state: checked when
 * the snapshot is complete and after each later change, never on a partial snapshot (testkit's
 * waitForKey also checks mid-snapshot, which is wrong for "key absent" conditions).
 */
export function waitForState(
  kv: KV,
  done: (m: Map<string, unknown>) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<Map<string, unknown>> {
  const state = new Map<string, unknown>();
  let ready = false;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (ready && done(state)) {
        clearTimeout(timer);
        w.stop();
        resolve(state);
      }
    };
    const w = watchBucket(
      kv,
      z.unknown(),
      (c) => {
        if (c.op === "put") state.set(c.key, c.value);
        else state.delete(c.key);
        check();
      },
      silentLogger,
    );
    void w.ready.then(() => {
      ready = true;
      check();
    });
    const timer = setTimeout(() => {
      w.stop();
      reject(new Error(`timed out waiting for ${what}; keys: ${JSON.stringify([...state.keys()])}`));
    }, timeoutMs);
  });
}
