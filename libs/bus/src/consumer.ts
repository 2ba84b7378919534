import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { z } from "zod";
import { decode } from "./kv.js";
import type { Logger } from "./logger.js";
import { throttled } from "./throttle.js";

/**
 * A durable push consumer: the server remembers what it delivered, so messages wait for a
 * reader that is down (a push consumer delivers only while someone listens on its subject).
 * Push, not pull: a pull consumer's request subject is one the server listens on, where any
 * reader's own push consumer could send pull requests that take the messages (see
 * libs/contracts access.ts `Durables`).
 */
export interface DurableConsumer {
  stream: string;
  /** The durable name; one per reading service. */
  name: string;
  filterSubject: string;
  /** How long a delivered message may stay unacked before it is delivered again. */
  ackWaitMs: number;
  /** A fixed subject in the reader's own inbox (no other user may subscribe there). */
  deliverSubject: string;
  /** The readers' queue group: each message goes to one of them. */
  deliverGroup: string;
  /** A durable of an earlier version that this one replaces: deleted when found. */
  replaces?: string;
}

/**
 * Create the consumer, or bring an existing one's ack settings up to date. It starts with the
 * messages published after it is first created and redelivers an unacked message forever.
 * nats-server 2.9 cannot change a durable's deliver subject, so an existing one delivering
 * elsewhere is an error.
 */
export async function ensureDurableConsumer(nc: NatsConnection, c: DurableConsumer): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const cfg = { ack_policy: AckPolicy.Explicit, ack_wait: c.ackWaitMs * 1_000_000, max_deliver: -1 };
  const existing = await jsm.consumers.info(c.stream, c.name).catch((err) => {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return null;
    throw err;
  });
  if (existing && existing.config.deliver_subject !== c.deliverSubject)
    throw new Error(
      `consumer ${c.stream}/${c.name} delivers to ${existing.config.deliver_subject ?? "nobody (a pull consumer)"}, not ${c.deliverSubject}`,
    );
  if (existing) await jsm.consumers.update(c.stream, c.name, cfg);
  else
    await jsm.consumers.add(c.stream, {
      ...cfg,
      durable_name: c.name,
      filter_subject: c.filterSubject,
      deliver_policy: DeliverPolicy.New,
      deliver_subject: c.deliverSubject,
      deliver_group: c.deliverGroup,
    });
}

/** Delete the durable that `c` replaces, if it is there. Resolves whether one was deleted. */
async function deleteReplaced(nc: NatsConnection, c: DurableConsumer): Promise<boolean> {
  if (!c.replaces) return false;
  try {
    return await (await jetstreamManager(nc)).consumers.delete(c.stream, c.replaces);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return false;
    throw err;
  }
}

/**
 * Read a durable consumer: each message is decoded with `schema` and handed to `onValue`, then
 * acked. A malformed message, or one whose handler throws, is logged, acked and skipped (it would
 * fail the same way on every redelivery). A message whose reply is not this consumer's ack
 * subject is not its delivery (any reader can aim a push consumer at the deliver subject): it is
 * logged, at most ten lines a second, and dropped unread.
 */
export async function consumeDurable<S extends z.ZodType>(
  nc: NatsConnection,
  c: DurableConsumer,
  schema: S,
  onValue: (value: z.infer<S>, subject: string) => void | Promise<void>,
  logger: Logger,
): Promise<{ stop(): Promise<void> }> {
  if (await deleteReplaced(nc, c))
    logger.info({ consumer: c.replaces, stream: c.stream }, "deleted the consumer of an earlier version");
  await ensureDurableConsumer(nc, c);
  const ackPrefix = `$JS.ACK.${c.stream}.${c.name}.`;
  const warnForeign = throttled(logger);
  const sub = nc.subscribe(c.deliverSubject, { queue: c.deliverGroup });
  await nc.flush();
  const done = (async () => {
    for await (const m of sub) {
      if (!m.reply?.startsWith(ackPrefix)) {
        warnForeign(
          {
            event: "bus.delivery_refused",
            consumer: c.name,
            subject: m.subject,
            reply: m.reply?.slice(0, 120),
          },
          "dropped a message that is not a delivery of this consumer",
        );
        continue;
      }
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
      m.respond("+ACK");
    }
  })();
  return {
    async stop() {
      await sub.drain().catch(() => {});
      await done.catch(() => {});
    },
  };
}
