import type { NatsConnection } from "@nats-io/transport-node";
import type { z } from "zod";
import { admitPublished } from "./admit.js";
import { decode } from "./kv.js";
import type { Logger } from "./logger.js";
import { throttled } from "./throttle.js";

/**
 * Listen on a one-way subject (a hint its publishers send and nobody answers). Only plain
 * publishes are taken (admitPublished): a JetStream delivery or republished record aimed here
 * by a reader is logged (at most ten lines a second) and dropped. A taken message is decoded
 * with `schema` (strict, so a record of another kind does not pass); a malformed one is logged
 * as "skipping malformed <what>".
 */
export function listen<S extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  schema: S,
  onValue: (value: z.infer<S>) => void,
  logger: Logger,
  what: string,
): { stop(): void } {
  // Both throttled: a publisher that floods the subject with junk cannot flood the log too.
  const warnRefused = throttled(logger);
  const warnMalformed = throttled(logger);
  const sub = nc.subscribe(subject, {
    callback: (err, m) => {
      if (err) return;
      const verdict = admitPublished({ reply: m.reply, headerNames: m.headers ? m.headers.keys() : [] });
      if (!verdict.ok) {
        warnRefused(
          { event: "bus.message_refused", subject, reason: verdict.reason, reply: m.reply?.slice(0, 120) },
          `refused a message on ${subject}`,
        );
        return;
      }
      const v = decode(m.string(), schema);
      if (!v.ok) warnMalformed({ subject, issues: v.error }, `skipping malformed ${what}`);
      else onValue(v.value);
    },
  });
  return { stop: () => sub.unsubscribe() };
}
