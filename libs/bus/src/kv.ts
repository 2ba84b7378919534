import { jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { BucketHistory, type BucketName } from "@switchyard/contracts";
import type { z } from "zod";
import type { Logger } from "./logger.js";
import { existingStream, isStreamNotFound, type WaitOptions, waitForStream } from "./streams.js";

export type { KV };

/**
 * Create a bucket with its config from the contracts (BucketHistory), or open it if it exists
 * and has that shape (an existing one that republishes, sources, mirrors or captures other
 * subjects is an error). Only the spec service creates buckets (createYardStreams); a suite may
 * stand in for it. `replicas`: copies kept by a NATS cluster (R); an existing bucket keeps its own.
 */
export async function createBucket(nc: NatsConnection, name: BucketName, replicas = 1): Promise<KV> {
  await existingStream(await jetstreamManager(nc), `KV_${name}`, [`$KV.${name}.>`]);
  return new Kvm(nc).create(name, { history: BucketHistory[name], replicas });
}

/**
 * Open a bucket if it exists; null when its stream is not found (its writer never ran). Any other
 * failure (permissions, connection) is thrown. Readers need only stream-info, not create.
 */
export async function tryOpenBucket(nc: NatsConnection, name: BucketName): Promise<KV | null> {
  try {
    await (await jetstreamManager(nc)).streams.info(`KV_${name}`);
  } catch (err) {
    if (isStreamNotFound(err)) return null;
    throw err;
  }
  return new Kvm(nc).open(name);
}

/**
 * Open a bucket, waiting until the spec service has created it (services start in any order).
 * Logs once that it waits, naming the bucket.
 */
export async function openBucket(nc: NatsConnection, name: BucketName, opts?: WaitOptions): Promise<KV> {
  const log = { fields: { bucket: name }, msg: "waiting for the spec service to create the bucket" };
  await waitForStream(await jetstreamManager(nc), `KV_${name}`, log, opts);
  return new Kvm(nc).open(name);
}

/**
 * Every valid value of a bucket in key order, or none when the bucket does not exist yet: a
 * one-shot reader (the CLI's status) must not wait for services that are not there.
 */
export async function readAll<S extends z.ZodType>(
  nc: NatsConnection,
  name: BucketName,
  schema: S,
  logger?: Logger,
): Promise<z.infer<S>[]> {
  const kv = await tryOpenBucket(nc, name);
  if (!kv) return [];
  const keys: string[] = [];
  for await (const k of await kv.keys()) keys.push(k);
  const out: z.infer<S>[] = [];
  for (const k of keys.sort()) {
    const v = await getJson(kv, k, schema, logger);
    if (v) out.push(v.value);
  }
  return out;
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
