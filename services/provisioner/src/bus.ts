import { AckPolicy, DeliverPolicy, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { type BucketWatch, jetstream, type KV, type Logger, openBucket, watchBucket } from "@switchyard/bus";
import {
  Buckets,
  EndpointRecord,
  ScaleRecord,
  SpecRecord,
  Streams,
  Subjects,
  YardEvent,
} from "@switchyard/contracts";
import type { Provisioner } from "./provisioner.js";

export const FAILURES_CONSUMER = "provisioner-failures";

/** Watch yard-specs and yard-endpoints into the provisioner; `ready` once both snapshots are in. */
export async function watchInputs(
  nc: NatsConnection,
  p: Provisioner,
  logger: Logger,
): Promise<{ ready: Promise<void>; stop(): void }> {
  const specs = await openBucket(nc, Buckets.specs, { logger });
  const endpoints = await openBucket(nc, Buckets.endpoints, { logger });
  const watches: BucketWatch[] = [
    watchBucket(
      specs,
      SpecRecord,
      (c) => (c.op === "put" ? p.setSpec(c.value) : p.deleteSpec(c.key)),
      logger,
    ),
    watchBucket(endpoints, EndpointRecord, (c) => p.setEndpoint(c.key, c.op === "put"), logger),
  ];
  let scale: BucketWatch | null = null;
  let stopped = false;
  // yard-scale exists once an autoscaler runs; until then min_replicas rules. Look for it now and then.
  const findScale = async () => {
    while (!stopped && !scale) {
      const kv = await tryOpen(nc, Buckets.scale);
      if (kv && !stopped)
        scale = watchBucket(
          kv,
          ScaleRecord,
          (c) => {
            p.setScale(c.key, c.op === "put" ? c.value.target_replicas : null);
          },
          logger,
        );
      else await new Promise((r) => setTimeout(r, 15_000).unref());
    }
  };
  void findScale();
  return {
    ready: Promise.all(watches.map((w) => w.ready)).then(() => {}),
    stop() {
      stopped = true;
      for (const w of watches) w.stop();
      scale?.stop();
    },
  };
}

async function tryOpen(nc: NatsConnection, bucket: string): Promise<KV | null> {
  try {
    await (await jetstreamManager(nc)).streams.info(`KV_${bucket}`);
    return await new Kvm(nc).open(bucket);
  } catch {
    return null;
  }
}

/**
 * The prober's `replica.failed` verdicts through a durable consumer: verdicts published while
 * the provisioner is down wait for it. Malformed messages are logged, acked and skipped.
 */
export async function consumeFailures(
  nc: NatsConnection,
  p: Provisioner,
  logger: Logger,
): Promise<{ stop(): Promise<void> }> {
  const jsm = await jetstreamManager(nc);
  // A short ack_wait: a verdict delivered to the pull request of a provisioner that was killed
  // (nats-server 2.9 still serves it until it expires) comes back within seconds, not 30 s.
  const cfg = { ack_policy: AckPolicy.Explicit, ack_wait: 3_000_000_000, max_deliver: -1 };
  const existing = await jsm.consumers.info(Streams.events.name, FAILURES_CONSUMER).catch(() => null);
  if (existing) await jsm.consumers.update(Streams.events.name, FAILURES_CONSUMER, cfg);
  else
    await jsm.consumers.add(Streams.events.name, {
      ...cfg,
      durable_name: FAILURES_CONSUMER,
      filter_subject: Subjects.eventsOfType("replica.failed"),
      deliver_policy: DeliverPolicy.New,
    });
  const consumer = await jetstream(nc).consumers.get(Streams.events.name, FAILURES_CONSUMER);
  const msgs = await consumer.consume({ expires: 5_000 });
  const done = (async () => {
    for await (const m of msgs) {
      try {
        const ev = YardEvent.safeParse(JSON.parse(m.string()));
        if (ev.success && ev.data.type === "replica.failed") p.onFailed(ev.data);
        else logger.warn({ subject: m.subject }, "skipping a malformed replica.failed event");
      } catch {
        logger.warn({ subject: m.subject }, "skipping a replica.failed event that is not JSON");
      }
      m.ack();
    }
  })();
  return {
    async stop() {
      await msgs.close();
      await done.catch(() => {});
    },
  };
}
