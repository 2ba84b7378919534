import {
  type ConsumerMessages,
  DeliverPolicy,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { Streams, Subjects, YardEvent } from "@switchyard/contracts";
import { decode } from "./kv.js";
import { silentLogger } from "./logger.js";
import { isStreamNotFound, waitForStream } from "./streams.js";

export interface ReadEventsOptions {
  /** Only this service's events (`yard.events.<service>.>`); a valid service name. */
  service?: string;
  /** First the newest `last` events already stored, oldest first; 0: none. */
  last: number;
  /** Then every new event as it is stored, until `signal` aborts; else end there. */
  follow: boolean;
  signal?: AbortSignal;
}

/** One message of the events stream; `event` is null when it is not a YardEvent (`issue` says why). */
export type StoredEvent = { seq: number; time: Date; subject: string } & (
  | { event: YardEvent }
  | { event: null; issue: string }
);

/**
 * Read the events stream (YARD_EVENTS) with an ordered push consumer delivering to this
 * connection's inbox, filtered on the server, deleted when done. Resolves when the stored
 * events are out (or, with `follow`, when `signal` aborts). Without the stream (no spec
 * service has run yet) there is nothing stored; `follow` waits for it.
 */
export async function readEvents(
  nc: NatsConnection,
  o: ReadEventsOptions,
  onEvent: (e: StoredEvent) => void,
): Promise<void> {
  const { name } = Streams.events;
  const jsm = await jetstreamManager(nc);
  let state: { first_seq: number; last_seq: number } | null = null;
  try {
    state = (await jsm.streams.info(name)).state;
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    if (!o.follow) return;
    const wait = { fields: {}, msg: "" };
    const found = await waitForStream(jsm, name, wait, { logger: silentLogger, signal: o.signal }).then(
      () => true,
      (e: unknown) => {
        // Aborted while waiting: nothing was read, nothing to clean up.
        if (o.signal?.aborted) return false;
        throw e;
      },
    );
    if (!found) return;
  }
  if (o.signal?.aborted || (!o.follow && (o.last === 0 || !state?.last_seq))) return;

  const start = startOf(o, state);
  const consumer = await jetstream(nc).consumers.getPushConsumer(name, {
    filter_subjects: o.service ? Subjects.events(o.service, ">") : Subjects.eventsAll,
    ...start,
  });
  try {
    const pending = (await consumer.info(true)).num_pending;
    // Not consume() unless there is something to read: one never iterated would not close.
    if (pending === 0 && !o.follow) return;
    await deliver(await consumer.consume(), pending > 0, o, onEvent);
  } finally {
    await consumer.delete().catch(() => false);
  }
}

/**
 * Hand the consumer's messages over. What was stored when it started (`stored`) is kept back,
 * the newest `last` of it, until it is out; then each new one as it comes, with `follow`.
 */
async function deliver(
  msgs: ConsumerMessages,
  stored: boolean,
  o: ReadEventsOptions,
  onEvent: (e: StoredEvent) => void,
): Promise<void> {
  let backlog: StoredEvent[] | null = stored ? [] : null;
  const stop = () => void msgs.close();
  o.signal?.addEventListener("abort", stop, { once: true });
  if (o.signal?.aborted) stop();
  try {
    for await (const m of msgs) {
      const e = toStored(m);
      if (!backlog) {
        onEvent(e);
        continue;
      }
      backlog.push(e);
      if (backlog.length > o.last) backlog.shift();
      if (m.info.pending > 0) continue;
      for (const b of backlog) onEvent(b);
      backlog = null;
      if (!o.follow) break;
    }
  } finally {
    o.signal?.removeEventListener("abort", stop);
    await msgs.close();
  }
}

/**
 * Where the consumer starts. Unfiltered, the newest `last` are the stream's last sequences;
 * one service's are found by reading its events from the start (kept back but the newest).
 */
function startOf(o: ReadEventsOptions, state: { first_seq: number; last_seq: number } | null) {
  if (!state) return { deliver_policy: DeliverPolicy.All };
  if (o.last === 0) return { deliver_policy: DeliverPolicy.New };
  if (o.service || state.last_seq === 0) return { deliver_policy: DeliverPolicy.All };
  return { opt_start_seq: Math.max(state.first_seq, state.last_seq - o.last + 1) };
}

function toStored(m: JsMsg): StoredEvent {
  const head = { seq: m.seq, time: m.time, subject: m.subject };
  const v = decode(m.string(), YardEvent);
  return v.ok ? { ...head, event: v.value } : { ...head, event: null, issue: v.error };
}
