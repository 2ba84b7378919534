import {
  type BucketWatch,
  decode,
  type Fence,
  FencedKv,
  jetstream,
  type Logger,
  listen,
  type NatsConnection,
  NO_FENCE,
  openBucket,
  publishEvent,
  waitForEventsStream,
  watchBucket,
} from "@switchyard/bus";
import {
  Buckets,
  EndpointRecord,
  ProbeHint,
  ReplicaRecord,
  replicaKey,
  SpecRecord,
  Subjects,
  type YardEvent,
} from "@switchyard/contracts";
import type { EndpointWriter } from "./replica-probes.js";

// The prober's one bus adapter: the buckets it reads and writes, its events, the probe hints.

/**
 * yard-endpoints (the prober is its only writer; the spec service creates it: this waits for
 * it, until `signal`), a writer converging it, and the endpoints it holds now, malformed ones
 * included (as null). Writes are fenced (FencedKv): only while `fence` holds the prober's
 * lease, each with the key's revision as this instance last read or wrote it.
 */
export async function openEndpoints(
  nc: NatsConnection,
  logger: Logger,
  signal: AbortSignal,
  fence: Fence = NO_FENCE,
): Promise<{ writer: EndpointWriter; existing: Map<string, EndpointRecord | null> }> {
  const kv = await openBucket(nc, Buckets.endpoints, { logger, signal });
  const fenced = new FencedKv(kv, fence, logger);
  const existing = new Map<string, EndpointRecord | null>();
  for await (const key of await kv.keys()) {
    const e = await kv.get(key);
    if (e?.operation !== "PUT") continue;
    fenced.seen(key, e.revision);
    const v = decode(e.string(), EndpointRecord);
    existing.set(key, v.ok ? v.value : null);
  }
  return { writer: createEndpointWriter(fenced, logger), existing };
}

export interface EventQueue {
  /** Publish `ev` after the events emitted before it; `onFail` runs if it could not be published. */
  emit(ev: YardEvent, onFail: () => void): void;
  /** Resolves once every event emitted so far is published or given up. */
  drained(): Promise<void>;
}

/**
 * Events go out one after another, in the order the verdicts happened. Waits first (until
 * `signal`) for the spec service to create the events stream.
 */
export async function eventQueue(
  nc: NatsConnection,
  logger: Logger,
  signal: AbortSignal,
): Promise<EventQueue> {
  await waitForEventsStream(nc, { logger, signal });
  const js = jetstream(nc);
  let events: Promise<void> = Promise.resolve();
  return {
    emit(ev, onFail) {
      events = events
        .then(() => publishEvent(js, ev))
        .catch((err) => {
          logger.error({ event: ev.type, service: ev.service, err: String(err) }, "publishing event failed");
          onFail();
        });
    },
    drained: () => events,
  };
}

export interface ProberInputs {
  /** Resolves once both snapshots (specs, replicas) have been delivered. */
  ready: Promise<void>;
  /** The spec records still in a service's key history (oldest first); what could be read on an error. */
  specHistory(service: string): Promise<SpecRecord[]>;
  stop(): void;
}

/** Watch yard-specs and yard-replicas, waiting for each bucket's writer to create it (until `signal`). */
export async function watchInputs(
  nc: NatsConnection,
  on: { spec(rec: SpecRecord | null): void; replica(key: string, r: ReplicaRecord | undefined): void },
  logger: Logger,
  signal: AbortSignal,
): Promise<ProberInputs> {
  const opts = { logger, signal };
  const [specsKv, replicasKv] = await Promise.all([
    openBucket(nc, Buckets.specs, opts),
    openBucket(nc, Buckets.replicas, opts),
  ]);
  const watches: BucketWatch[] = [
    watchBucket(specsKv, SpecRecord, (c) => on.spec(c.op === "put" ? c.value : null), logger),
    watchBucket(
      replicasKv,
      ReplicaRecord,
      (c) => on.replica(c.key, c.op === "put" ? c.value : undefined),
      logger,
    ),
  ];
  return {
    ready: Promise.all(watches.map((w) => w.ready)).then(() => {}),
    async specHistory(service) {
      const out: SpecRecord[] = [];
      try {
        for await (const e of await specsKv.history({ key: service })) {
          const v = e.operation === "PUT" ? decode(e.string(), SpecRecord) : null;
          if (v?.ok) out.push(v.value);
        }
      } catch (err) {
        logger.warn({ service, err: String(err) }, "cannot read the spec's history");
      }
      return out;
    },
    stop() {
      for (const w of watches) w.stop();
    },
  };
}

/**
 * A proxy's `yard.hint.probe`: probe this replica now. Only plain publishes are taken (a push
 * consumer any reader aims here delivers records with a `$JS.ACK` reply: dropped), and
 * ProbeHint is strict; malformed hints are logged and skipped.
 */
export function listenHints(
  nc: NatsConnection,
  onHint: (key: string) => void,
  logger: Logger,
): { stop(): void } {
  return listen(
    nc,
    Subjects.probeHint,
    ProbeHint,
    (h) => onHint(replicaKey(h.service, h.replica_id)),
    logger,
    "probe hint",
  );
}

/**
 * Converges `yard-endpoints` to what the prober wants, key by key: one write in flight per key,
 * always the latest wish (a delete issued after a put is never overtaken by it), retried until
 * it lands, so a failed delete cannot leave a dead replica routable.
 */
function createEndpointWriter(kv: FencedKv, logger: Logger, retryMs = 500): EndpointWriter {
  const desired = new Map<string, EndpointRecord | null>();
  const present = new Set<string>();
  // `busy` is updated synchronously (a write must never be lost between a pump's last check
  // and its end); `inflight` only lets close() wait.
  const busy = new Set<string>();
  const inflight = new Set<Promise<void>>();
  let closing = false;

  async function pump(key: string): Promise<void> {
    while (desired.has(key)) {
      const want = desired.get(key)!;
      try {
        if (want === null) {
          if (present.has(key)) await kv.delete(key);
          present.delete(key);
        } else {
          const revision = await kv.put(key, JSON.stringify(want));
          logger.debug({ key, revision }, "yard-endpoints written");
          present.add(key);
        }
        if (desired.get(key) === want) desired.delete(key);
      } catch (err) {
        if (closing) {
          logger.error({ key, err: String(err) }, "endpoint write failed during shutdown");
          break;
        }
        logger.warn({ key, err: String(err) }, "endpoint write failed; retrying");
        await new Promise((r) => setTimeout(r, retryMs));
      }
    }
    busy.delete(key);
  }

  return {
    seed: (key) => void present.add(key),
    set(key, value) {
      if (value === null && !present.has(key) && !busy.has(key)) return;
      desired.set(key, value);
      if (busy.has(key)) return;
      busy.add(key);
      const p = pump(key);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    },
    keys: () => [...present],
    async close() {
      closing = true;
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
}
