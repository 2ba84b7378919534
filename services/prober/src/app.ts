import type { JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import {
  type BucketWatch,
  createBucket,
  decode,
  ensureEventsStream,
  jetstream,
  type Logger,
  openBucket,
  publishEvent,
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
import type { ProberConfig } from "./config.js";
import { createEndpointWriter, type EndpointWriter } from "./endpoint-writer.js";
import { createHttpProber, type HttpProber } from "./probe-http.js";
import { createProbeLoop, type Timers } from "./probe-loop.js";
import { missingRevisions, type ProbeBook, rememberSpec } from "./probe-targets.js";
import { createReplicaProbes, type ReplicaProbes } from "./replica-probes.js";

export interface ProberDeps {
  nc: NatsConnection;
  logger: Logger;
  config: Pick<
    ProberConfig,
    "YARD_PROBE_INTERVAL_MS" | "YARD_PROBE_FAILURE_THRESHOLD_MS" | "YARD_PROBE_CONCURRENCY"
  >;
  now?: () => number;
  timers?: Timers;
  http?: HttpProber;
  /** How long stop() waits for probes in flight before cutting them (default 5 s). */
  stopGraceMs?: number;
}

export interface ProberApp {
  /** Load the snapshots, converge `yard-endpoints`, start probing; logs "ready". */
  start(): Promise<void>;
  /** Stop probing, wait for probes and writes in flight (NATS is left to the caller). */
  stop(): Promise<void>;
}

export function build(deps: ProberDeps): ProberApp {
  const { nc, logger } = deps;
  const http = deps.http ?? createHttpProber();
  const book: ProbeBook = new Map();
  const abort = new AbortController();
  const watches: BucketWatch[] = [];
  let hints: Subscription | null = null;
  let writer: EndpointWriter | null = null;
  let probes: ReplicaProbes | null = null;
  let events: Promise<void> = Promise.resolve();

  /** Events go out one after another, in the order the verdicts happened. */
  const emit = (ev: YardEvent, onFail: () => void) => {
    events = events
      .then(() => publishEvent(js!, ev))
      .catch((err) => {
        logger.error({ event: ev.type, service: ev.service, err: String(err) }, "publishing event failed");
        onFail();
      });
  };
  let js: JetStreamClient | null = null;

  return {
    async start() {
      const endpointsKv = await createBucket(nc, Buckets.endpoints);
      await ensureEventsStream(nc);
      js = jetstream(nc);
      writer = createEndpointWriter(endpointsKv, logger);

      // The endpoints as they are now, malformed ones included (we are their only writer).
      const existing = new Map<string, EndpointRecord | null>();
      for await (const key of await endpointsKv.keys()) {
        const e = await endpointsKv.get(key);
        if (e?.operation !== "PUT") continue;
        const v = decode(e.string(), EndpointRecord);
        existing.set(key, v.ok ? v.value : null);
      }

      probes = createReplicaProbes({
        book,
        writer,
        logger,
        http,
        emit,
        now: deps.now ?? Date.now,
        failureThresholdMs: deps.config.YARD_PROBE_FAILURE_THRESHOLD_MS,
        loop: (p) =>
          createProbeLoop({
            intervalMs: deps.config.YARD_PROBE_INTERVAL_MS,
            concurrency: deps.config.YARD_PROBE_CONCURRENCY,
            timers: deps.timers,
            ...p,
          }),
      });
      const pr = probes;

      const opts = { logger, signal: abort.signal };
      const [specsKv, replicasKv] = await Promise.all([
        openBucket(nc, Buckets.specs, opts),
        openBucket(nc, Buckets.replicas, opts),
      ]);
      const specsWatch = watchBucket(
        specsKv,
        SpecRecord,
        (c) => {
          // A deleted spec keeps its probes: its replicas are probed until the provisioner ends them.
          if (c.op === "put") {
            rememberSpec(book, c.value);
            pr.specChanged(c.value.name);
          }
        },
        logger,
      );
      const replicasWatch = watchBucket(
        replicasKv,
        ReplicaRecord,
        (c) => pr.replicaChanged(c.key, c.op === "put" ? c.value : undefined),
        logger,
      );
      watches.push(specsWatch, replicasWatch);
      await Promise.all([specsWatch.ready, replicasWatch.ready]);
      if (abort.signal.aborted) return; // stopped while loading
      // Replicas of revisions older than the stored spec (we restarted mid-update): their
      // probes are in the spec key's history.
      for (const service of missingRevisions(book, pr.replicaRecords())) {
        try {
          for await (const e of await specsKv.history({ key: service })) {
            const v = e.operation === "PUT" ? decode(e.string(), SpecRecord) : null;
            if (v?.ok) rememberSpec(book, v.value, false);
          }
        } catch (err) {
          logger.warn({ service, err: String(err) }, "cannot read the spec's history");
        }
      }

      hints = nc.subscribe(Subjects.probeHint, {
        callback: (err, msg) => {
          if (err) return;
          const h = decode(msg.string(), ProbeHint);
          if (!h.ok) logger.warn({ subject: msg.subject, issues: h.error }, "skipping malformed probe hint");
          else pr.hint(replicaKey(h.value.service, h.value.replica_id));
        },
      });
      const removed = pr.converge(existing);
      logger.info({ removedEndpoints: removed, replicas: pr.size() }, "ready");
    },

    async stop() {
      abort.abort();
      hints?.unsubscribe();
      for (const w of watches) w.stop();
      // Let probes in flight finish, but not for a spec's whole timeout_seconds: cut them after a while.
      const drained = probes?.stop();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((r) => {
        timer = setTimeout(() => r("late"), deps.stopGraceMs ?? 5_000);
      });
      if ((await Promise.race([drained, late])) === "late") {
        logger.warn({}, "cutting probes still in flight");
        await http.destroy();
      }
      clearTimeout(timer);
      await drained;
      await writer?.close();
      await events;
      await http.close();
    },
  };
}
