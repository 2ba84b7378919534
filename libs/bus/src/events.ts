import { type JetStreamClient, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { Streams, Subjects, type YardEvent } from "@switchyard/contracts";

/** Create the events stream if missing (idempotent). Keeps a week or 100k events. */
export async function ensureEventsStream(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const cfg = {
    name: Streams.events.name,
    subjects: [...Streams.events.subjects],
    max_age: 7 * 24 * 3600 * 1e9,
    max_msgs: 100_000,
  };
  try {
    await jsm.streams.info(cfg.name);
  } catch {
    try {
      await jsm.streams.add(cfg);
    } catch (err) {
      // Another service created it between our info and add.
      if (!/already in use|exists/i.test(String(err))) throw err;
    }
  }
}

/** How many events of `type` from `service` the events stream holds now. */
export async function countEvents(nc: NatsConnection, service: string, type: string): Promise<number> {
  const subject = Subjects.events(service, type);
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(Streams.events.name, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

/** Publish an event on `yard.events.<service>.<type>` (persisted by the events stream). */
export async function publishEvent(js: JetStreamClient, ev: YardEvent): Promise<void> {
  await js.publish(Subjects.events(ev.service, ev.type), JSON.stringify(ev));
}

export { jetstream };
