import cluster, { type Worker } from "node:cluster";
import type { Logger } from "@switchyard/bus";
import { AggregatorRegistry } from "prom-client";
import { createAdminServer } from "./admin.js";
import type { ProxyConfig } from "./config.js";
import { mergeViews, type RoutesView } from "./routes-view.js";

/**
 * YARD_PROXY_WORKERS=N: the primary forks N workers that share the data-plane port (Node 20
 * has no reusePort) and each watch the bus themselves. The admin server lives only in the
 * primary: /metrics aggregates the workers' registries, /-/routes merges their tables
 * (in-flight summed), /-/ready is 200 once every worker loaded its snapshots. SIGTERM to the
 * primary drains every worker, then the primary exits 0.
 */
export async function runPrimary(cfg: ProxyConfig, logger: Logger): Promise<void> {
  const readyWorkers = new Set<number>();
  let stopping = false;
  let nextId = 1;
  const pending = new Map<number, (v: RoutesView) => void>();
  const aggregator = new AggregatorRegistry();
  let announced = false;

  const fork = (): Worker => {
    const w = cluster.fork();
    w.on("message", (m: { type?: string; id?: number; view?: RoutesView }) => {
      if (m?.type === "ready") readyWorkers.add(w.id);
      else if (m?.type === "routes" && m.id !== undefined) pending.get(m.id)?.(m.view!);
    });
    w.on("listening", (address) => {
      if (announced) return;
      announced = true;
      logger.info(
        { server: "proxy", address: `http://${address.address ?? cfg.YARD_PROXY_HOST}:${address.port}` },
        "listening",
      );
    });
    return w;
  };
  cluster.on("exit", (w, code, signal) => {
    readyWorkers.delete(w.id);
    if (stopping) return;
    logger.error({ worker: w.process.pid, code, signal }, "proxy worker died; forking a new one");
    fork();
  });
  for (let i = 0; i < cfg.YARD_PROXY_WORKERS; i++) fork();

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
      w.send({ type: "routes", id });
    });
  const workers = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
  const admin = createAdminServer(
    {
      routes: async () => {
        const views = await Promise.all(workers().map(ask));
        return mergeViews(views.filter((v): v is RoutesView => v !== null));
      },
      metrics: async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }),
      ready: () => !stopping && readyWorkers.size === cfg.YARD_PROXY_WORKERS,
    },
    (err) => logger.warn({ err: String(err) }, "admin request failed"),
  );
  const address = await admin.listen({ host: cfg.YARD_PROXY_ADMIN_HOST, port: cfg.YARD_PROXY_ADMIN_PORT });
  logger.info({ server: "admin", address }, "listening");
  const waitReady = () =>
    new Promise<void>((resolve) => {
      const check = () => (readyWorkers.size === cfg.YARD_PROXY_WORKERS ? resolve() : setTimeout(check, 50));
      check();
    });
  await waitReady();
  logger.info({ workers: cfg.YARD_PROXY_WORKERS }, "ready");

  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: draining workers");
    const exits = workers().map(
      (w) =>
        new Promise<number>((resolve) => {
          w.once("exit", (code) => resolve(code ?? 1));
          w.process.kill("SIGTERM");
        }),
    );
    const codes = await Promise.all(exits);
    await admin.close();
    const failed = codes.some((c) => c !== 0);
    logger.info({ codes }, "stopped");
    process.exit(failed ? 1 : 0);
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}
