import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { callersOf, type ErrorBody, type Issue, YardError } from "@switchyard/contracts";
import type { z } from "zod";
import { admit } from "./admit.js";
import type { Logger } from "./logger.js";
import { throttled } from "./throttle.js";

type Reply<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

export interface ServeOptions {
  /**
   * The bus users whose requests are taken: only replies under their inbox prefixes are
   * answered. Default: callersOf(subject), the users the contracts' access table lets publish
   * on the subject.
   */
  callers?: readonly string[];
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
        if (verdict.answer) respond(nc, m, forbidden(subject, verdict.reason), logger);
        continue;
      }
      respond(nc, m, await answer(m, subject, schema, handler, logger), logger);
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

/**
 * Answer, never throwing: the serve loop must outlive any one answer. One over the server's
 * max_payload (a list of large specs) becomes SY_ERR_TOO_LARGE instead of an exception that
 * would end the loop and, unhandled, the process.
 */
function respond<R>(nc: NatsConnection, m: Msg, r: Reply<R>, logger: Logger): void {
  let text = JSON.stringify(r);
  const max = nc.info?.max_payload ?? Number.POSITIVE_INFINITY;
  if (Buffer.byteLength(text) > max) {
    logger.warn({ subject: m.subject, bytes: Buffer.byteLength(text), max }, "answer over max_payload");
    text = JSON.stringify({
      ok: false,
      error: {
        code: "SY_ERR_TOO_LARGE",
        message: `the answer on ${m.subject} is larger than the NATS server's max_payload (${max} bytes)`,
        issues: [],
      },
    } satisfies Reply<never>);
  }
  try {
    m.respond(text);
  } catch (err) {
    logger.warn({ subject: m.subject, err: String(err) }, "could not answer a request");
  }
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
