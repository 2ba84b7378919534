import { type JetStreamClient, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { Streams, Subjects, type YardEvent } from "@switchyard/contracts";
import { existingStream, type WaitOptions, waitForStream } from "./streams.js";

/**
 * Create the events stream if missing (idempotent), from its config in the contracts. Only the
 * spec service creates it (createYardStreams); an existing one with a foreign config is an error.
 * `replicas`: copies kept by a NATS cluster (R); an existing stream keeps its own.
 */
export async function ensureEventsStream(nc: NatsConnection, replicas = 1): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const { name, subjects, maxAgeMs, maxMsgs } = Streams.events;
  if (await existingStream(jsm, name, subjects)) return;
  try {
    await jsm.streams.add({
      name,
      subjects: [...subjects],
      max_age: maxAgeMs * 1e6,
      max_msgs: maxMsgs,
      num_replicas: replicas,
    });
  } catch (err) {
    // Created between our look-up and add (a second spec service).
    if (!/already in use|exists/i.test(String(err))) throw err;
  }
}

/** Wait until the spec service has created the events stream (for a service that publishes events). */
export async function waitForEventsStream(nc: NatsConnection, opts?: WaitOptions): Promise<void> {
  const { name } = Streams.events;
  const log = { fields: { stream: name }, msg: "waiting for the spec service to create the events stream" };
  await waitForStream(await jetstreamManager(nc), name, log, opts);
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
