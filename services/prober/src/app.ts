import type { Fence, Logger, NatsConnection } from "@switchyard/bus";
import {
  type EventQueue,
  eventQueue,
  listenHints,
  openEndpoints,
  type ProberInputs,
  watchInputs,
} from "./bus.js";
import type { ProberConfig } from "./config.js";
import { createHttpProber, type HttpProber } from "./probe-http.js";
import { createProbeLoop, type Timers } from "./probe-loop.js";
import { createReplicaProbes, type EndpointWriter, type ReplicaProbes } from "./replica-probes.js";

export interface ProberDeps {
  nc: NatsConnection;
  logger: Logger;
  config: Pick<
    ProberConfig,
    "YARD_PROBE_INTERVAL_MS" | "YARD_PROBE_FAILURE_THRESHOLD_MS" | "YARD_PROBE_CONCURRENCY"
  > &
    Partial<Pick<ProberConfig, "YARD_PROBE_STARTING_INTERVAL_MS">>;
  now?: () => number;
  timers?: Timers;
  http?: HttpProber;
  /** How long stop() waits for probes in flight before cutting them (default 5 s). */
  stopGraceMs?: number;
  /** The lease's fence: yard-endpoints is written only while this instance holds it (default: always). */
  fence?: Fence;
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
  const abort = new AbortController();
  let inputs: ProberInputs | null = null;
  let hints: { stop(): void } | null = null;
  let writer: EndpointWriter | null = null;
  let probes: ReplicaProbes | null = null;
  let queue: EventQueue | null = null;

  return {
    async start() {
      const endpoints = await openEndpoints(nc, logger, abort.signal, deps.fence);
      writer = endpoints.writer;
      const q = await eventQueue(nc, logger, abort.signal);
      queue = q;
      const pr = createReplicaProbes({
        writer,
        logger,
        http,
        emit: (ev, onFail) => q.emit(ev, onFail),
        now: deps.now ?? Date.now,
        failureThresholdMs: deps.config.YARD_PROBE_FAILURE_THRESHOLD_MS,
        loop: (p) =>
          createProbeLoop({
            intervalMs: deps.config.YARD_PROBE_INTERVAL_MS,
            startingIntervalMs: deps.config.YARD_PROBE_STARTING_INTERVAL_MS,
            concurrency: deps.config.YARD_PROBE_CONCURRENCY,
            timers: deps.timers,
            ...p,
          }),
      });
      probes = pr;

      inputs = await watchInputs(
        nc,
        { spec: (rec) => pr.specChanged(rec), replica: (key, r) => pr.replicaChanged(key, r) },
        logger,
        abort.signal,
      );
      await inputs.ready;
      if (abort.signal.aborted) return; // stopped while loading
      // Replicas of revisions older than the stored spec (we restarted mid-update): their
      // probes are in the spec key's history.
      for (const service of pr.servicesMissingProbes())
        for (const rec of await inputs.specHistory(service)) pr.olderSpec(rec);

      hints = listenHints(nc, (key) => pr.hint(key), logger);
      const removed = pr.converge(endpoints.existing);
      logger.info({ removedEndpoints: removed, replicas: pr.size() }, "ready");
    },

    async stop() {
      abort.abort();
      hints?.stop();
      inputs?.stop();
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
      await queue?.drained();
      await http.close();
    },
  };
}
