import type { KV } from "@switchyard/bus";
import { waitForKey } from "@switchyard/testkit";

/** Resolves with the bucket's keys once `done(keys)` holds (testkit's waitForKey, whole bucket). */
export function waitForState(
  kv: KV,
  done: (m: Map<string, unknown>) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<Map<string, unknown>> {
  return waitForKey(kv, done, { what, timeoutMs });
}
