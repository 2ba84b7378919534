import { jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { BucketName } from "@switchyard/contracts";
import type { z } from "zod";
import type { Logger } from "./logger.js";

export type { KV };

/** Create a bucket (its single writer does this) or open it if it exists. */
export async function createBucket(nc: NatsConnection, name: BucketName, history = 5): Promise<KV> {
  return new Kvm(nc).create(name, { history });
}

/**
 * Open a bucket another service writes, waiting until it exists (services start in any order).
 * Readers need only stream-info and consumer permissions, not create.
 */
export async function openBucket(
  nc: NatsConnection,
  name: BucketName,
  opts: { logger: Logger; signal?: AbortSignal; pollMs?: number } = { logger: silent() },
): Promise<KV> {
  const jsm = await jetstreamManager(nc);
  let warned = false;
  for (;;) {
    try {
      await jsm.streams.info(`KV_${name}`);
      return new Kvm(nc).open(name);
    } catch (err) {
      if (!/not found/i.test(String(err))) throw err;
      if (!warned) opts.logger.info({ bucket: name }, "waiting for bucket to be created by its writer");
      warned = true;
      if (opts.signal?.aborted) throw new Error(`aborted while waiting for bucket ${name}`);
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
    }
  }
}

/** Decode a KV value as JSON validated by `schema`; null when absent, deleted or invalid. */
export async function getJson<S extends z.ZodType>(
  kv: KV,
  key: string,
  schema: S,
  logger?: Logger,
): Promise<{ value: z.infer<S>; revision: number } | null> {
  const e = await kv.get(key);
  if (e?.operation !== "PUT") return null;
  const v = decode(e.string(), schema);
  if (!v.ok) {
    logger?.warn({ key, issues: v.error }, "skipping malformed KV value");
    return null;
  }
  return { value: v.value, revision: e.revision };
}

export async function putJson(kv: KV, key: string, value: unknown): Promise<number> {
  return kv.put(key, JSON.stringify(value));
}

export function decode<S extends z.ZodType>(
  text: string,
  schema: S,
): { ok: true; value: z.infer<S> } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    error: r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; "),
  };
}

function silent(): Logger {
  const l: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => l };
  return l;
}
