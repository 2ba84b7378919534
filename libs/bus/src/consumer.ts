import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { z } from "zod";
import { decode } from "./kv.js";
import type { Logger } from "./logger.js";

/** A durable pull consumer: the server remembers what it delivered, so messages wait for a reader that is down. */
export interface DurableConsumer {
  stream: string;
  /** The durable name; one per reading service. */
  name: string;
  filterSubject: string;
  /** How long a delivered message may stay unacked before it is delivered again. */
  ackWaitMs: number;
}

/**
 * Create the consumer, or bring an existing one's ack settings up to date. It starts with the
 * messages published after it is first created and redelivers an unacked message forever.
 */
export async function ensureDurableConsumer(nc: NatsConnection, c: DurableConsumer): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const cfg = { ack_policy: AckPolicy.Explicit, ack_wait: c.ackWaitMs * 1_000_000, max_deliver: -1 };
  const existing = await jsm.consumers.info(c.stream, c.name).catch(() => null);
  if (existing) await jsm.consumers.update(c.stream, c.name, cfg);
  else
    await jsm.consumers.add(c.stream, {
      ...cfg,
      durable_name: c.name,
      filter_subject: c.filterSubject,
      deliver_policy: DeliverPolicy.New,
    });
}

/**
 * Read a durable consumer: each message is decoded with `schema` and handed to `onValue`, then
 * acked. A malformed message, or one whose handler throws, is logged, acked and skipped (it would
 * fail the same way on every redelivery).
 */
export async function consumeDurable<S extends z.ZodType>(
  nc: NatsConnection,
  c: DurableConsumer,
  schema: S,
  onValue: (value: z.infer<S>, subject: string) => void | Promise<void>,
  logger: Logger,
): Promise<{ stop(): Promise<void> }> {
  await ensureDurableConsumer(nc, c);
  const consumer = await jetstream(nc).consumers.get(c.stream, c.name);
  const msgs = await consumer.consume({ expires: 5_000 });
  const done = (async () => {
    for await (const m of msgs) {
      const v = decode(m.string(), schema);
      if (!v.ok)
        logger.warn(
          { consumer: c.name, subject: m.subject, issues: v.error },
          "skipping a malformed message",
        );
      else
        try {
          await onValue(v.value, m.subject);
        } catch (err) {
          logger.error({ consumer: c.name, subject: m.subject, err: String(err) }, "message handler failed");
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
