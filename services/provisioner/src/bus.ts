import {
  type BucketWatch,
  consumeDurable,
  decode,
  isTransient,
  jetstream,
  type KV,
  type Logger,
  listen,
  type NatsConnection,
  openBucket,
  publishEvent,
  serve,
  tryOpenBucket,
  waitForEventsStream,
  watchBucket,
} from "@switchyard/bus";
import {
  Buckets,
  Durables,
  EndpointRecord,
  LoadBatch,
  type LoadReport,
  LogsRequest,
  type LogsResult,
  ReplicaDownRequest,
  type ReplicaDownResult,
  ReplicaRecord,
  ScaleRecord,
  SpecRecord,
  Subjects,
  YardEvent,
} from "@switchyard/contracts";
import type { LogsQuery } from "./logs-api.js";
import type { Provisioner } from "./provisioner.js";

// The provisioner's one bus adapter: every bucket, stream, consumer and subject it uses.

/**
 * yard-replicas (the provisioner is its single writer; the spec service creates it: this waits
 * for it) and the records it holds.
 */
export async function openReplicas(
  nc: NatsConnection,
  logger: Logger,
): Promise<{ kv: KV; records: ReplicaRecord[] }> {
  const kv = await openBucket(nc, Buckets.replicas, { logger });
  const records: ReplicaRecord[] = [];
  const w = watchBucket(kv, ReplicaRecord, (c) => c.op === "put" && records.push(c.value), logger);
  await w.ready;
  w.stop();
  return { kv, records };
}

/**
 * Publish events without waiting: a failed publish is logged, the replica's work goes on. Waits
 * first for the spec service to create the events stream.
 */
export async function eventPublisher(nc: NatsConnection, logger: Logger): Promise<(ev: YardEvent) => void> {
  await waitForEventsStream(nc, { logger });
  const js = jetstream(nc);
  return (ev) => {
    publishEvent(js, ev).catch((err) =>
      logger.warn({ type: ev.type, err: String(err) }, "event not published"),
    );
  };
}

/**
 * Watch yard-specs and yard-endpoints into the provisioner; `ready` once both snapshots are in.
 * `specHistory` reads the revisions still kept in a spec's key (oldest first).
 */
export async function watchInputs(
  nc: NatsConnection,
  p: Provisioner,
  logger: Logger,
): Promise<{
  ready: Promise<void>;
  specHistory(service: string, signal: AbortSignal): Promise<SpecRecord[]>;
  stop(): void;
}> {
  const specs = await openBucket(nc, Buckets.specs, { logger });
  const endpoints = await openBucket(nc, Buckets.endpoints, { logger });
  const watches: BucketWatch[] = [
    watchBucket(
      specs,
      SpecRecord,
      (c) => (c.op === "put" ? p.setSpec(c.value) : p.deleteSpec(c.key)),
      logger,
    ),
    // A draining endpoint is on its way out: not "ready" for the reconciler.
    watchBucket(
      endpoints,
      EndpointRecord,
      (c) => p.setEndpoint(c.key, c.op === "put" && !c.value.draining),
      logger,
    ),
  ];
  let scale: BucketWatch | null = null;
  let stopped = false;
  // yard-scale exists once an autoscaler runs; until then min_replicas rules. Look for it now and then.
  const findScale = async () => {
    while (!stopped && !scale) {
      // Any failure (NATS away, no permission) is "not found yet": look again later.
      const kv = await tryOpenBucket(nc, Buckets.scale).catch(() => null);
      if (kv && !stopped)
        scale = watchBucket(
          kv,
          ScaleRecord,
          (c) => {
            p.setScale(c.key, c.op === "put" ? c.value.target_replicas : null);
          },
          logger,
        );
      else await new Promise((r) => setTimeout(r, 15_000).unref());
    }
  };
  void findScale();
  return {
    ready: Promise.all(watches.map((w) => w.ready)).then(() => {}),
    specHistory: (service, signal) => readSpecHistory(specs, service, logger, signal),
    stop() {
      stopped = true;
      for (const w of watches) w.stop();
      scale?.stop();
    },
  };
}

/**
 * The spec records in a service's key history, oldest first. Reading it makes a consumer, which
 * a NATS cluster electing leaders refuses for seconds (a timeout): tried again every 250 ms
 * until it answers or `signal` ends the wait (then what was read so far). Any other error is
 * logged and gives what was read.
 */
async function readSpecHistory(
  kv: KV,
  service: string,
  logger: Logger,
  signal: AbortSignal,
): Promise<SpecRecord[]> {
  for (let warned = false; ; warned = true) {
    const out: SpecRecord[] = [];
    try {
      for await (const e of await kv.history({ key: service })) {
        const v = e.operation === "PUT" ? decode(e.string(), SpecRecord) : null;
        if (v?.ok) out.push(v.value);
      }
      return out;
    } catch (err) {
      if (!isTransient(err) || signal.aborted) {
        logger.warn({ service, err: String(err) }, "cannot read the spec's history");
        return out;
      }
      if (!warned)
        logger.info(
          { service, err: String(err) },
          "reading the spec's history: NATS is unavailable; retrying",
        );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The prober's `replica.failed` verdicts through a durable consumer: verdicts published while
 * the provisioner is down wait for it. Malformed messages are logged, acked and skipped; a
 * message on the consumer's deliver subject that the consumer did not deliver (a reader's push
 * consumer aimed there) is logged and dropped. The pull durable of earlier versions is deleted.
 */
export function consumeFailures(
  nc: NatsConnection,
  p: Provisioner,
  logger: Logger,
): Promise<{ stop(): Promise<void> }> {
  const consumer = {
    ...Durables.provisionerFailures,
    filterSubject: Subjects.eventsOfType("replica.failed"),
    // Short: a verdict delivered to a provisioner that was killed before acking it comes back
    // within seconds, not 30 s.
    ackWaitMs: 3_000,
  };
  return consumeDurable(
    nc,
    consumer,
    YardEvent,
    (ev, subject) => {
      if (ev.type === "replica.failed") p.onFailed(ev);
      else logger.warn({ subject, type: ev.type }, "skipping an event that is not replica.failed");
    },
    logger,
  );
}

/** `yard.api.replica.logs` for `yard logs`, answered by `answer` (see logs-api.ts). */
export function serveLogs(
  nc: NatsConnection,
  answer: (req: LogsQuery) => Promise<LogsResult>,
  logger: Logger,
): { stop(): Promise<void> } {
  return serve(nc, Subjects.replicaLogs, LogsRequest, answer, logger);
}

/**
 * `yard.api.replica.down` for `yard down NAME --replica-id N [--purge]`, answered by `answer`
 * (Provisioner.down).
 */
export function serveReplicaDown(
  nc: NatsConnection,
  answer: (req: { service: string; replica_id: number; purge: boolean }) => Promise<ReplicaDownResult>,
  logger: Logger,
): { stop(): Promise<void> } {
  return serve(nc, Subjects.replicaDown, ReplicaDownRequest, answer, logger);
}

/**
 * The proxies' load reports, batched on `yard.load` (each batch's reports handed to `onReport`
 * in order; a malformed batch dropped whole and logged): what a drain waits on (in-flight
 * requests per replica). Calls `lost`/`back` when the connection drops and returns (reports
 * were missed).
 * `heardAll` resolves once every report the server had for this connection when it was called
 * has been handed to `onReport` (a PING/PONG: the server writes in order).
 */
export function listenLoadReports(
  nc: NatsConnection,
  onReport: (r: LoadReport) => void,
  onBack: () => void,
  logger: Logger,
): { stop(): void; heardAll(): Promise<void> } {
  const each = (b: LoadBatch) => {
    for (const r of b.reports) onReport(r);
  };
  const sub = listen(nc, Subjects.load, LoadBatch, each, logger, "load batch");
  let stopped = false;
  void (async () => {
    for await (const s of nc.status()) {
      if (stopped) break;
      if (s.type === "reconnect") onBack();
    }
  })();
  return {
    stop() {
      stopped = true;
      sub.stop();
    },
    heardAll: () => nc.flush(),
  };
}
