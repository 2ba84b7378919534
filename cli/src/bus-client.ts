import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { call, connectBus, getJson, redactUrl, silentLogger } from "@switchyard/bus";
import { type BucketName, Subjects, YardError } from "@switchyard/contracts";
import type { z } from "zod";

export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** Who answers each API subject, and how to start it: for "no responder" messages. */
const RESPONDERS: Record<string, { who: string; start: string }> = {
  [Subjects.specApply]: { who: "the spec service", start: "pnpm -F @switchyard/spec start" },
  [Subjects.specGet]: { who: "the spec service", start: "pnpm -F @switchyard/spec start" },
  [Subjects.specList]: { who: "the spec service", start: "pnpm -F @switchyard/spec start" },
  [Subjects.specDelete]: { who: "the spec service", start: "pnpm -F @switchyard/spec start" },
  [Subjects.replicaLogs]: { who: "the provisioner", start: "pnpm -F @switchyard/provisioner start" },
};

export interface CliBus {
  nc: NatsConnection;
  /** Request/reply with the CLI's messages for "service not running" and timeouts. */
  request<T>(subject: string, req: unknown, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export async function openCliBus(o: { url: string; user?: string; pass?: string }): Promise<CliBus> {
  let nc: NatsConnection;
  try {
    nc = await connectBus({ ...o, name: "yard-cli", logger: silentLogger, timeoutMs: 3_000 });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    const why = cause instanceof Error ? cause.message : String(cause ?? err);
    throw new YardError(
      "SY_ERR_BUS_UNREACHABLE",
      `cannot reach NATS at ${redactUrl(o.url)}: ${why}. Start it with \`pnpm start\` or set NATS_URL (or --nats URL).`,
    );
  }
  return {
    nc,
    async request<T>(subject: string, req: unknown, timeoutMs = 15_000) {
      try {
        return await call<T>(nc, subject, req, timeoutMs);
      } catch (err) {
        if (!(err instanceof YardError)) throw err;
        const r = RESPONDERS[subject];
        if (err.code === "SY_ERR_NO_RESPONDER" && r)
          throw new YardError(
            err.code,
            `${r.who} is not running (no responder on ${subject}); start it with \`${r.start}\``,
          );
        if (err.code === "SY_ERR_TIMEOUT" && r)
          throw new YardError(err.code, `${r.who} did not answer on ${subject} within ${timeoutMs / 1000} s`);
        throw err;
      }
    },
    async close() {
      await nc.close();
    },
  };
}

/**
 * Every valid value of a bucket, or none when the bucket does not exist yet (its writer never
 * ran): status must not wait for services that are not there.
 */
export async function readBucket<S extends z.ZodType>(
  nc: NatsConnection,
  name: BucketName,
  schema: S,
): Promise<z.infer<S>[]> {
  let kv: Awaited<ReturnType<Kvm["open"]>>;
  try {
    kv = await new Kvm(nc).open(name);
    await kv.status();
  } catch (err) {
    if (/not found/i.test(String(err))) return [];
    throw err;
  }
  const keys: string[] = [];
  for await (const k of await kv.keys()) keys.push(k);
  const out: z.infer<S>[] = [];
  for (const k of keys.sort()) {
    const v = await getJson(kv, k, schema);
    if (v) out.push(v.value);
  }
  return out;
}
