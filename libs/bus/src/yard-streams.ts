import type { NatsConnection } from "@nats-io/transport-node";
import { type BucketName, Buckets } from "@switchyard/contracts";
import { ensureEventsStream } from "./events.js";
import { createBucket, type KV } from "./kv.js";

/**
 * Create every stream of Switchyard (each bucket and the events stream) with its config from
 * the contracts, or check the existing ones. The spec service does this at start, alone: the
 * other services only bind (openBucket, waitForEventsStream). Resolves with each bucket.
 */
export async function createYardStreams(nc: NatsConnection): Promise<Record<BucketName, KV>> {
  const kvs = {} as Record<BucketName, KV>;
  for (const b of Object.values(Buckets)) kvs[b] = await createBucket(nc, b);
  await ensureEventsStream(nc);
  return kvs;
}
