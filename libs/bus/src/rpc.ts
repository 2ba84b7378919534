import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { callersOf, type ErrorBody, type Issue, inboxPrefixOf, YardError } from "@switchyard/contracts";
import type { z } from "zod";
import type { Logger } from "./logger.js";

type Reply<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

export interface ServeOptions {
  /**
   * The bus users whose requests are taken: only replies under their inbox prefixes are
   * answered. Default: callersOf(subject), the users the contracts' access table lets publish
   * on the subject.
   */
  callers?: readonly string[];
}

/**
 * Headers that JetStream puts on what it delivers or republishes. A request never has them; a
 * stream record aimed at a served subject (a push consumer's `deliver_subject`, a stream's
 * `republish`) may.
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
export function admit(
  m: { reply?: string; headerNames?: readonly string[] },
  callers: readonly string[] | "any",
): Admission {
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
  const js = (m.headerNames ?? []).filter((h) => JETSTREAM_HEADERS.includes(h.toLowerCase()));
  if (js.length) return { ok: false, reason: `carries JetStream headers (${js.join(", ")})`, answer: true };
  return { ok: true };
}

/** Zod issues as wire issues; an unknown key becomes one issue whose path names it. */
export function requestIssues(error: z.ZodError): Issue[] {
  return error.issues.flatMap((i) => {
    const at = i.path.map(String);
    if (i.code === "unrecognized_keys")
      return i.keys.map((k) => ({ path: [...at, k].join("."), message: "unknown key" }));
    return [{ path: at.join("."), message: i.message }];
  });
}

/**
 * Serve a request/reply subject in a queue group (several instances share the load). A message
 * is first admitted (admit: an allowed caller's request, not a JetStream delivery); a refused
 * one is logged and dropped, or answered SY_ERR_FORBIDDEN when its reply is an allowed inbox.
 * The request is then validated with `schema`; a bad request gets SY_ERR_BAD_REQUEST naming
 * the fields (and each unknown key).
 */
export function serve<S extends z.ZodType, R>(
  nc: NatsConnection,
  subject: string,
  schema: S,
  handler: (req: z.infer<S>) => Promise<R>,
  logger: Logger,
  opts: ServeOptions = {},
): { stop(): Promise<void> } {
  const callers = opts.callers ?? callersOf(subject);
  const warnRefused = throttled(logger);
  const sub = nc.subscribe(subject, { queue: "yard" });
  void (async () => {
    for await (const m of sub) {
      // Read per message: after a reconnect the server may be another one.
      const verdict = admit(
        { reply: m.reply, headerNames: m.headers ? m.headers.keys() : [] },
        nc.info?.auth_required ? callers : "any",
      );
      if (!verdict.ok) {
        // Never the payload: an apply request carries secrets.
        warnRefused(
          { event: "bus.request_refused", subject, reason: verdict.reason, reply: m.reply?.slice(0, 120) },
          "refused a message on a served subject",
        );
        if (verdict.answer) respond(m, forbidden(subject, verdict.reason));
        continue;
      }
      respond(m, await answer(m, subject, schema, handler, logger));
    }
  })();
  return { stop: () => sub.drain() };
}

async function answer<S extends z.ZodType, R>(
  m: Msg,
  subject: string,
  schema: S,
  handler: (req: z.infer<S>) => Promise<R>,
  logger: Logger,
): Promise<Reply<R>> {
  let raw: unknown;
  try {
    raw = m.data.length ? JSON.parse(m.string()) : {};
  } catch {
    raw = undefined;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = requestIssues(parsed.error);
    return { ok: false, error: { code: "SY_ERR_BAD_REQUEST", message: `bad request on ${subject}`, issues } };
  }
  try {
    return { ok: true, data: await handler(parsed.data) };
  } catch (err) {
    if (err instanceof YardError) return { ok: false, error: err.toBody() };
    logger.error({ err, subject }, "request handler failed");
    return { ok: false, error: { code: "SY_ERR_INTERNAL", message: "internal error", issues: [] } };
  }
}

function forbidden(subject: string, reason: string): Reply<never> {
  return {
    ok: false,
    error: { code: "SY_ERR_FORBIDDEN", message: `refused on ${subject}: ${reason}`, issues: [] },
  };
}

function respond<R>(m: Msg, r: Reply<R>): void {
  m.respond(JSON.stringify(r));
}

/**
 * A warn that writes at most `burst` lines a second and counts the lines it held back (given
 * on the next line written): refusals come as fast as a consumer can deliver, and must not
 * fill the disk.
 */
function throttled(logger: Logger, burst = 10, windowMs = 1_000): (obj: object, msg: string) => void {
  let windowStart = 0;
  let written = 0;
  let held = 0;
  return (obj, msg) => {
    const now = Date.now();
    if (now - windowStart >= windowMs) {
      windowStart = now;
      written = 0;
    }
    if (written >= burst) {
      held++;
      return;
    }
    written++;
    logger.warn({ ...obj, heldBack: held }, msg);
    held = 0;
  };
}

/** Send a request; unwraps `{ok,data}` or throws the YardError it carried. */
export async function call<T>(
  nc: NatsConnection,
  subject: string,
  req: unknown,
  timeoutMs = 10_000,
): Promise<T> {
  let m: Awaited<ReturnType<NatsConnection["request"]>>;
  try {
    m = await nc.request(subject, JSON.stringify(req), { timeout: timeoutMs });
  } catch (err) {
    const s = String(err);
    if (/no responders|503/i.test(s))
      throw new YardError(
        "SY_ERR_NO_RESPONDER",
        `nothing answers on ${subject}: is the service that serves it running?`,
      );
    if (/timeout/i.test(s))
      throw new YardError("SY_ERR_TIMEOUT", `no answer on ${subject} within ${timeoutMs} ms`);
    throw err;
  }
  const r = JSON.parse(m.string()) as Reply<T>;
  if (r.ok) return r.data;
  throw YardError.fromBody(r.error);
}
