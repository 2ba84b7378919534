import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from "@nats-io/jetstream";
import { type Logger, silentLogger } from "./logger.js";

/** JetStream's "stream not found" (API error 10059): the spec service has not created it yet. */
export function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
}

/** The parts of a stream's config that can send its records elsewhere. */
export interface StreamShape {
  subjects?: string[];
  republish?: unknown;
  sources?: unknown[];
  mirror?: unknown;
}

/**
 * What is wrong with an existing stream's config for Switchyard, or nothing. Pure. A
 * `republish`, `sources` or `mirror` copies records onto other subjects (a bucket's keys
 * included), and other subjects capture what others publish: either is a write no grant
 * sees. A store where such a stream was made (by a version that let several users create
 * streams) is refused rather than used.
 */
export function foreignStreamConfig(cfg: StreamShape, subjects: readonly string[]): string[] {
  const out: string[] = [];
  if (cfg.republish) out.push("republish");
  if (cfg.sources?.length) out.push("sources");
  if (cfg.mirror) out.push("mirror");
  const have = [...(cfg.subjects ?? [])].sort().join(" ");
  if (have !== [...subjects].sort().join(" ")) out.push(`subjects [${have}]`);
  return out;
}

/**
 * Whether the stream exists; an existing one with a foreign config (foreignStreamConfig) is
 * an error naming the stream and what to do.
 */
export async function existingStream(
  jsm: JetStreamManager,
  name: string,
  subjects: readonly string[],
): Promise<boolean> {
  let cfg: StreamShape;
  try {
    cfg = (await jsm.streams.info(name)).config;
  } catch (err) {
    if (isStreamNotFound(err)) return false;
    throw err;
  }
  const wrong = foreignStreamConfig(cfg, subjects);
  if (wrong.length)
    throw new Error(
      `stream ${name} exists with ${wrong.join(", ")}, which Switchyard never sets: it was not created by the spec service. Remove it (nats stream rm ${name}) and start again.`,
    );
  return true;
}

/**
 * JetStream's answers while a NATS cluster elects new leaders (a node was lost): a request that
 * times out, "temporarily unavailable", or no responders (nats.js: "jetstream is not enabled").
 * Seconds later the same request succeeds, so a waiter retries instead of failing its service.
 */
export function isTransient(err: unknown): boolean {
  return /timeout|temporarily unavailable|no responders|jetstream is not enabled/i.test(String(err));
}

export interface WaitOptions {
  logger: Logger;
  signal?: AbortSignal;
  pollMs?: number;
}

/**
 * Wait until a stream exists: the spec service creates every stream, and the services that
 * only bind to them may start first. Logs once what it waits for; any error but "not found"
 * or a cluster's transient one (isTransient) is thrown (permissions, a closed connection).
 */
export async function waitForStream(
  jsm: JetStreamManager,
  name: string,
  log: { fields: object; msg: string },
  opts: WaitOptions = { logger: silentLogger },
): Promise<void> {
  let warned = false;
  for (;;) {
    try {
      await jsm.streams.info(name);
      return;
    } catch (err) {
      if (!isStreamNotFound(err) && !isTransient(err)) throw err;
    }
    if (!warned) opts.logger.info(log.fields, log.msg);
    warned = true;
    if (opts.signal?.aborted) throw new Error(`aborted while waiting for stream ${name}`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
}
