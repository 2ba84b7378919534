import cluster, { type Worker } from "node:cluster";
import type { Logger } from "@switchyard/bus";
import { AggregatorRegistry } from "prom-client";
import { createAdminServer } from "./admin.js";
import type { ToPrimary, ToWorker } from "./cluster-ipc.js";
import type { ProxyConfig } from "./config.js";
import { mergeViews, type RoutesView } from "./routes-view.js";
import { tlsEnabled } from "./tls.js";

/**
 * How long the primary's shutdown waits beyond YARD_PROXY_DRAIN_MS: each worker gives up its
 * own drain at YARD_PROXY_DRAIN_MS and exits 1, so this only covers reporting that exit.
 */
export const WORKER_EXIT_MARGIN_MS = 5_000;

export interface Primary {
  /** Fork the workers and serve the admin server; resolves (logs "ready") once all are ready. */
  start(): Promise<void>;
  /** SIGTERM every worker and wait until all exited: 0 when every one drained cleanly, else 1. */
  stopWorkers(): Promise<number>;
  closeAdmin(): Promise<void>;
}

/**
 * YARD_PROXY_WORKERS=N: the primary forks N workers that share the data-plane port (Node 20
 * has no reusePort) and each watch the bus themselves (cluster-ipc.ts is their side). The admin
 * server lives only in the primary: /metrics aggregates the workers' registries, /-/routes
 * merges their tables (in-flight summed), /-/ready is 200 once every worker loaded its
 * snapshots. A worker that dies is replaced until stopWorkers() is called.
 */
export function buildPrimary(deps: {
  config: Pick<
    ProxyConfig,
    | "YARD_PROXY_WORKERS"
    | "YARD_PROXY_HOST"
    | "YARD_PROXY_ADMIN_HOST"
    | "YARD_PROXY_ADMIN_PORT"
    | "YARD_PROXY_TLS"
    | "YARD_PROXY_TLS_CERT"
  >;
  logger: Logger;
}): Primary {
  const { config, logger } = deps;
  const want = config.YARD_PROXY_WORKERS;
  const scheme = tlsEnabled(config) ? "https" : "http";
  const readyWorkers = new Set<number>();
  let allReady: () => void = () => {};
  const everyWorkerReady = new Promise<void>((r) => {
    allReady = r;
  });
  let stopping = false;
  let nextId = 1;
  const pending = new Map<number, (v: RoutesView) => void>();
  const aggregator = new AggregatorRegistry();
  let announced = false;

  const fork = (): Worker => {
    const w = cluster.fork();
    w.on("message", (m: ToPrimary) => {
      if (m?.type === "ready") {
        readyWorkers.add(w.id);
        if (readyWorkers.size === want) allReady();
      } else if (m?.type === "routes") pending.get(m.id)?.(m.view);
    });
    w.on("listening", (address) => {
      if (announced) return;
      announced = true;
      logger.info(
        {
          server: "proxy",
          address: `${scheme}://${address.address ?? config.YARD_PROXY_HOST}:${address.port}`,
        },
        "listening",
      );
    });
    return w;
  };
  const workers = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
  const ask = (w: Worker) =>
    new Promise<RoutesView | null>((resolve) => {
      const id = nextId++;
      const t = setTimeout(() => {
        pending.delete(id);
        resolve(null);
      }, 2_000);
      pending.set(id, (v) => {
        clearTimeout(t);
        pending.delete(id);
        resolve(v);
      });
      w.send({ type: "routes", id } satisfies ToWorker);
    });
  const admin = createAdminServer(
    {
      routes: async () => {
        const views = await Promise.all(workers().map(ask));
        return mergeViews(views.filter((v): v is RoutesView => v !== null));
      },
      metrics: async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }),
      ready: () => !stopping && readyWorkers.size === want,
    },
    (err) => logger.warn({ err: String(err) }, "admin request failed"),
  );

  return {
    async start() {
      cluster.on("exit", (w, code, signal) => {
        readyWorkers.delete(w.id);
        if (stopping) return;
        logger.error({ worker: w.process.pid, code, signal }, "proxy worker died; forking a new one");
        fork();
      });
      for (let i = 0; i < want; i++) fork();
      const address = await admin.listen({
        host: config.YARD_PROXY_ADMIN_HOST,
        port: config.YARD_PROXY_ADMIN_PORT,
      });
      logger.info({ server: "admin", address }, "listening");
      await everyWorkerReady;
      logger.info({ workers: want }, "ready");
    },
    async stopWorkers() {
      stopping = true;
      const codes = await Promise.all(
        workers().map(
          (w) =>
            new Promise<number>((resolve) => {
              w.once("exit", (code) => resolve(code ?? 1));
              w.process.kill("SIGTERM");
            }),
        ),
      );
      logger.info({ codes }, "workers stopped");
      return codes.some((c) => c !== 0) ? 1 : 0;
    },
    async closeAdmin() {
      await admin.close();
    },
  };
}
