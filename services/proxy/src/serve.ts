import cluster from "node:cluster";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectBus, type Logger } from "@switchyard/bus";
import { EVENT_SCHEMA_VERSION, type ProbeHint, Subjects } from "@switchyard/contracts";
import { onShutdown } from "@switchyard/runtime";
import { AggregatorRegistry } from "prom-client";
import { createAdminServer } from "./admin.js";
import type { ProxyConfig } from "./config.js";
import { feedRouteTable } from "./feed.js";
import { accessLogger, createProxy } from "./proxy.js";

/**
 * One proxy process: NATS → route table, data-plane server, and (unless it is a cluster
 * worker) the admin server. Logs `listening` per server and `ready` once snapshots are loaded.
 */
export async function runProxy(cfg: ProxyConfig, logger: Logger): Promise<void> {
  const worker = cluster.isWorker;
  let nc: NatsConnection | null = null;
  let ready = false;
  const proxy = createProxy(cfg, logger, accessLogger(logger, cfg.YARD_PROXY_ACCESS_LOG), (r) => {
    const hint: ProbeHint = {
      schema: EVENT_SCHEMA_VERSION,
      service: r.service,
      replica_id: r.id,
      url: r.url,
    };
    try {
      nc?.publish(Subjects.probeHint, JSON.stringify(hint));
    } catch (err) {
      logger.warn({ err: String(err), replica: r.key }, "could not send probe hint");
    }
  });
  // The admin server comes up first: /-/healthz answers while NATS is still unreachable and
  // /-/ready says 503 until the snapshots are loaded.
  const admin = worker
    ? null
    : createAdminServer(
        {
          routes: () => proxy.routes(),
          metrics: async () => ({
            contentType: proxy.metrics.registry.contentType,
            body: await proxy.metrics.registry.metrics(),
          }),
          ready: () => ready && !proxy.isDraining(),
        },
        (err) => logger.warn({ err: String(err) }, "admin request failed"),
      );
  let feed: { stop(): void } | null = null;
  onShutdown(
    logger,
    [
      { name: "drain proxy server", run: () => proxy.drain() },
      { name: "close upstream pools", run: () => proxy.closePools() },
      { name: "stop route feed", run: () => feed?.stop() },
      { name: "drain NATS", run: () => nc?.drain() },
      { name: "close admin server", run: () => admin?.close() },
    ],
    cfg.YARD_PROXY_DRAIN_MS,
  );
  if (admin) {
    const adminAddress = await admin.listen({
      host: cfg.YARD_PROXY_ADMIN_HOST,
      port: cfg.YARD_PROXY_ADMIN_PORT,
    });
    logger.info({ server: "admin", address: adminAddress }, "listening");
  }
  nc = await connectBus({
    url: cfg.NATS_URL,
    name: "yard-proxy",
    user: cfg.NATS_USER,
    pass: cfg.NATS_PASS,
    logger,
    waitOnFirstConnect: true,
  });
  const fed = await feedRouteTable(nc, proxy.table, logger);
  feed = fed;
  await fed.ready;
  // The data plane listens only once the table is loaded: no 404/503 from an empty table.
  const address = await proxy.server.listen({ host: cfg.YARD_PROXY_HOST, port: cfg.YARD_PROXY_PORT });
  logger.info({ server: "proxy", address }, worker ? "worker listening" : "listening");
  if (!admin) {
    // Constructing one installs prom-client's worker-side listener for the primary's scrapes.
    AggregatorRegistry.setRegistries([proxy.metrics.registry]);
    new AggregatorRegistry();
    process.on("message", (m: { type?: string; id?: number }) => {
      if (m?.type === "routes") process.send?.({ type: "routes", id: m.id, view: proxy.routes() });
    });
    process.send?.({ type: "ready" });
  }
  ready = true;
  logger.info({ version: proxy.table.version, services: proxy.table.services.size }, "ready");
}
