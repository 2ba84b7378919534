import type { NatsConnection } from "@nats-io/transport-node";
import { type ErrorBody, YardError } from "@switchyard/contracts";
import type { z } from "zod";
import type { Logger } from "./logger.js";

type Reply<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

/**
 * Serve a request/reply subject in a queue group (several instances share the load). The
 * request is validated with `schema`; a bad request gets SY_ERR_BAD_REQUEST naming the fields.
 */
export function serve<S extends z.ZodType, R>(
  nc: NatsConnection,
  subject: string,
  schema: S,
  handler: (req: z.infer<S>) => Promise<R>,
  logger: Logger,
): { stop(): Promise<void> } {
  const sub = nc.subscribe(subject, { queue: "yard" });
  void (async () => {
    for await (const m of sub) {
      let reply: Reply<R>;
      let raw: unknown;
      try {
        raw = m.data.length ? JSON.parse(m.string()) : {};
      } catch {
        raw = undefined;
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
        reply = {
          ok: false,
          error: { code: "SY_ERR_BAD_REQUEST", message: `bad request on ${subject}`, issues },
        };
      } else {
        try {
          reply = { ok: true, data: await handler(parsed.data) };
        } catch (err) {
          if (err instanceof YardError) reply = { ok: false, error: err.toBody() };
          else {
            logger.error({ err, subject }, "request handler failed");
            reply = { ok: false, error: { code: "SY_ERR_INTERNAL", message: "internal error", issues: [] } };
          }
        }
      }
      m.respond(JSON.stringify(reply));
    }
  })();
  return { stop: () => sub.drain() };
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
