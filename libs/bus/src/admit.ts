import { inboxPrefixOf } from "@switchyard/contracts";

/**
 * Headers that JetStream puts on what it delivers or republishes. A request or a published
 * hint never has them; a stream record aimed at a listened subject (a push consumer's
 * `deliver_subject`, a stream's `republish`) may.
 */
const JETSTREAM_HEADERS = [
  "nats-stream",
  "nats-subject",
  "nats-sequence",
  "nats-last-sequence",
  "nats-msg-size",
  "kv-operation",
];

/** Any client's inbox: `_INBOX.` (the default) or a user's own `_INBOX_<user>.`. */
const ANY_INBOX = /^_INBOX(_[A-Za-z0-9-]+)?\./;

export type Admission = { ok: true } | { ok: false; reason: string; answer: boolean };

/** What admit reads of a message: its reply subject and header names. */
export interface Arrival {
  reply?: string;
  headerNames?: readonly string[];
}

function jetStreamHeaders(m: Arrival): string[] {
  return (m.headerNames ?? []).filter((h) => JETSTREAM_HEADERS.includes(h.toLowerCase()));
}

/**
 * Whether a message on a served subject is a request from an allowed caller. Pure.
 *
 * The server lets a user subscribe to its own inbox prefix only (deploy/nats/yard.conf), so a
 * reply under that prefix is the one thing a request carries that names who can read the
 * answer. `callers` are the users allowed; "any" (a server without authorization, where every
 * client may publish anything) takes any inbox. Whatever JetStream sends on a consumer's behalf
 * (deliveries, heartbeats, republished records) has a `$JS.ACK` reply or none, so it is never
 * taken for a request, whoever created the consumer. `answer` says whether the refusal may be
 * answered: only on an allowed inbox, never on a subject the caller chose for its side effect.
 */
export function admit(m: Arrival, callers: readonly string[] | "any"): Admission {
  const reply = m.reply ?? "";
  if (!reply) return { ok: false, reason: "no reply subject: not a request", answer: false };
  const allowed =
    callers === "any" ? ANY_INBOX.test(reply) : callers.some((u) => reply.startsWith(`${inboxPrefixOf(u)}.`));
  if (!allowed) {
    const reason = reply.startsWith("$JS.")
      ? "a JetStream delivery, not a request"
      : `the reply subject is not the inbox of a user allowed to call this subject (${callers === "any" ? "any inbox" : callers.join(", ") || "nobody"})`;
    return { ok: false, reason, answer: false };
  }
  const js = jetStreamHeaders(m);
  if (js.length) return { ok: false, reason: `carries JetStream headers (${js.join(", ")})`, answer: true };
  return { ok: true };
}

/**
 * Whether a message on a one-way subject (a hint: published, never requested) is a plain
 * publish. Pure. The server grants the subject to its publishers alone, but any reader can aim
 * a push consumer at it: such a delivery has a `$JS.ACK` reply, a republished record has
 * JetStream headers; a publisher's own message has neither.
 */
export function admitPublished(m: Arrival): Admission {
  if (m.reply)
    return {
      ok: false,
      reason: m.reply.startsWith("$JS.")
        ? "a JetStream delivery, not a published message"
        : "carries a reply subject: a request, not a published message",
      answer: false,
    };
  const js = jetStreamHeaders(m);
  if (js.length) return { ok: false, reason: `carries JetStream headers (${js.join(", ")})`, answer: false };
  return { ok: true };
}
