import type { KV, Logger } from "@switchyard/bus";
import type { EndpointRecord } from "@switchyard/contracts";

/**
 * Converges `yard-endpoints` to what the prober wants, key by key: one write in flight per key,
 * always the latest wish (a delete issued after a put is never overtaken by it), retried until
 * it lands, so a failed delete cannot leave a dead replica routable.
 */
export interface EndpointWriter {
  /** Record a key that exists in the bucket (from the start-up snapshot). */
  seed(key: string): void;
  /** The endpoint of `key` should be `value`; null = absent. */
  set(key: string, value: EndpointRecord | null): void;
  /** Keys believed present. */
  keys(): string[];
  /** Wait for the writes in flight; stop retrying ones that fail from now on. */
  close(): Promise<void>;
}

export function createEndpointWriter(kv: KV, logger: Logger, retryMs = 500): EndpointWriter {
  const desired = new Map<string, EndpointRecord | null>();
  const present = new Set<string>();
  // `busy` is updated synchronously (a write must never be lost between a pump's last check
  // and its end); `inflight` only lets close() wait.
  const busy = new Set<string>();
  const inflight = new Set<Promise<void>>();
  let closing = false;

  async function pump(key: string): Promise<void> {
    while (desired.has(key)) {
      const want = desired.get(key)!;
      try {
        if (want === null) {
          if (present.has(key)) await kv.delete(key);
          present.delete(key);
        } else {
          await kv.put(key, JSON.stringify(want));
          present.add(key);
        }
        if (desired.get(key) === want) desired.delete(key);
      } catch (err) {
        if (closing) {
          logger.error({ key, err: String(err) }, "endpoint write failed during shutdown");
          break;
        }
        logger.warn({ key, err: String(err) }, "endpoint write failed; retrying");
        await new Promise((r) => setTimeout(r, retryMs));
      }
    }
    busy.delete(key);
  }

  return {
    seed: (key) => void present.add(key),
    set(key, value) {
      if (value === null && !present.has(key) && !busy.has(key)) return;
      desired.set(key, value);
      if (busy.has(key)) return;
      busy.add(key);
      const p = pump(key);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    },
    keys: () => [...present],
    async close() {
      closing = true;
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
}
