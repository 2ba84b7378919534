import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type BucketName, Buckets, Streams } from "@switchyard/contracts";
import { ensureEventsStream } from "./events.js";
import { createBucket, type KV } from "./kv.js";
import { type Logger, silentLogger } from "./logger.js";

export interface YardStreamsOptions {
  /**
   * Copies of each stream a NATS cluster keeps (JetStream's R; YARD_NATS_REPLICAS): 1 on a single
   * server, 3 on a 3-node cluster (any one node can die without losing a record or a write).
   */
  replicas?: number;
  logger?: Logger;
}

/**
 * Create every stream of Switchyard (each bucket and the events stream) with its config from
 * the contracts, or check the existing ones. The spec service does this at start, alone: the
 * other services only bind (openBucket, waitForEventsStream). Resolves with each bucket.
 *
 * An existing stream keeps the replicas it was made with: no Switchyard user may update a
 * stream (a grant cannot see what an update changes), so one whose R differs from `replicas`
 * is logged (`bus.stream_replicas_differ`) with the command an operator runs to change it.
 */
export async function createYardStreams(
  nc: NatsConnection,
  opts: YardStreamsOptions = {},
): Promise<Record<BucketName, KV>> {
  const replicas = opts.replicas ?? 1;
  const logger = opts.logger ?? silentLogger;
  const kvs = {} as Record<BucketName, KV>;
  try {
    await untilPlaced(logger, async () => {
      for (const b of Object.values(Buckets)) kvs[b] = await createBucket(nc, b, replicas);
      await ensureEventsStream(nc, replicas);
    });
  } catch (err) {
    // nats-server's words ("replicas > 1 not supported in non-clustered mode") name no setting.
    if (replicas > 1 && /replicas|cluster|insufficient resources/i.test(String(err)))
      throw new Error(
        `cannot create streams with ${replicas} replicas (YARD_NATS_REPLICAS): ${String(err)}. A single nats-server keeps 1; use YARD_NATS_REPLICAS=1 or a cluster of at least ${replicas} nodes.`,
        { cause: err },
      );
    throw err;
  }
  const jsm = await jetstreamManager(nc);
  const names = [...Object.values(Buckets).map((b) => `KV_${b}`), Streams.events.name];
  for (const name of names) {
    const have = (await jsm.streams.info(name)).config.num_replicas ?? 1;
    if (have !== replicas)
      logger.warn(
        { event: "bus.stream_replicas_differ", stream: name, replicas: have, wanted: replicas },
        `stream ${name} keeps ${have} replica(s), not ${replicas} (YARD_NATS_REPLICAS): it existed before. Change it as a NATS admin: nats stream edit ${name} --replicas ${replicas}`,
      );
  }
  return kvs;
}

/** nats-server's answers while a cluster is still forming (no meta leader, peers not yet known). */
const FORMING = /no suitable peers|temporarily unavailable|timeout/i;
/** How long a forming cluster is waited for (a 3-node cluster of this machine: about 4 s). */
const FORMING_WAIT_MS = 60_000;

/**
 * Run `create` again while the cluster is forming: a spec service started with its nats-servers
 * would otherwise exit on their first seconds. Logs once what it waits for.
 */
async function untilPlaced(logger: Logger, create: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + FORMING_WAIT_MS;
  for (let warned = false; ; warned = true) {
    try {
      return await create();
    } catch (err) {
      if (!FORMING.test(String(err)) || Date.now() > deadline) throw err;
      if (!warned)
        logger.info(
          { event: "bus.cluster_forming", why: String(err) },
          "waiting for the NATS cluster to place the streams",
        );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
