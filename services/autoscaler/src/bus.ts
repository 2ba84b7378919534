import {
  type Fence,
  FencedKv,
  getJson,
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
  LoadBatch,
  type LoadReport,
  ReplicaRecord,
  ScaleRecord,
  ServiceRoute,
  Subjects,
  type YardEvent,
} from "@switchyard/contracts";

// The autoscaler's one bus adapter: yard-scale (it is the single writer; the spec service
// creates it), yard-services and yard-replicas (read), the proxies' load reports, its events.

export interface ScaleStore {
  put(rec: ScaleRecord): Promise<void>;
  delete(service: string): Promise<void>;
}

/**
 * yard-scale, waiting for the spec service to create it, and the records it holds now. Writes
 * are fenced (FencedKv): only while `fence` holds the autoscaler's lease, and each with the
 * revision of the key this instance last read or wrote, so an old leader's late write is
 * refused; a refused one is decided again at the next interval.
 */
export async function openScale(
  nc: NatsConnection,
  logger: Logger,
  signal: AbortSignal,
  fence: Fence = NO_FENCE,
): Promise<{ store: ScaleStore; existing: ScaleRecord[] }> {
  const kv = await openBucket(nc, Buckets.scale, { logger, signal });
  const fenced = new FencedKv(kv, fence, logger);
  const existing: ScaleRecord[] = [];
  for await (const key of await kv.keys()) {
    const v = await getJson(kv, key, ScaleRecord, logger);
    if (v) fenced.seen(key, v.revision);
    // A record under another service's key would be a second writer's: leave it out.
    if (v && v.value.service === key) existing.push(v.value);
  }
  return {
    existing,
    store: {
      put: async (rec) => {
        const revision = await fenced.put(rec.service, JSON.stringify(rec));
        logger.debug({ key: rec.service, revision, reason: rec.reason }, "yard-scale written");
      },
      delete: async (service) => {
        await fenced.delete(service);
        logger.debug({ key: service }, "yard-scale deleted");
      },
    },
  };
}

export interface Inputs {
  /** Resolves once both snapshots (routes, replicas) have been delivered. */
  ready: Promise<void>;
  stop(): void;
}

/** Watch yard-services (the secret-free routes: policy numbers) and yard-replicas. */
export async function watchInputs(
  nc: NatsConnection,
  on: {
    route(name: string, r: ServiceRoute | null): void;
    replica(key: string, r: ReplicaRecord | null): void;
  },
  logger: Logger,
  signal: AbortSignal,
): Promise<Inputs> {
  const [routes, replicas] = await Promise.all(
    [Buckets.services, Buckets.replicas].map((b) => openBucket(nc, b, { logger, signal })),
  );
  const r = watchBucket(
    routes,
    ServiceRoute,
    (c) => on.route(c.key, c.op === "put" ? c.value : null),
    logger,
  );
  const p = watchBucket(
    replicas,
    ReplicaRecord,
    (c) => on.replica(c.key, c.op === "put" ? c.value : null),
    logger,
  );
  return {
    ready: r.ready.then(() => p.ready),
    stop: () => {
      r.stop();
      p.stop();
    },
  };
}

/**
 * The proxies' load reports, batched on `yard.load` (plain publishes only): each batch's reports
 * go to `onReport` one by one in order, as if each had come alone. A malformed batch is dropped
 * whole and logged (one bad report taints its batch).
 */
export function listenReports(
  nc: NatsConnection,
  onReport: (r: LoadReport) => void,
  logger: Logger,
): { stop(): void } {
  const each = (b: LoadBatch) => {
    for (const r of b.reports) onReport(r);
  };
  return listen(nc, Subjects.load, LoadBatch, each, logger, "load batch");
}

/** Calls `lost` when the NATS connection drops and `back` when it is restored. */
export function watchConnection(nc: NatsConnection, on: { lost(): void; back(): void }): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") on.lost();
      else if (s.type === "reconnect") on.back();
    }
  })();
}

/** A publisher of events, once the spec service has created the events stream. */
export async function openEvents(
  nc: NatsConnection,
  logger: Logger,
  signal: AbortSignal,
): Promise<(ev: YardEvent) => Promise<void>> {
  await waitForEventsStream(nc, { logger, signal });
  const js = jetstream(nc);
  return (ev) => publishEvent(js, ev);
}
