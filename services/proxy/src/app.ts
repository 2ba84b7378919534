import type { Server as HttpsServer } from "node:https";
import type { Logger, NatsConnection } from "@switchyard/bus";
import { createAdminServer } from "./admin.js";
import { connectRouteTable, type ProxyBus } from "./bus.js";
import { serveClusterWorker } from "./cluster-ipc.js";
import type { ProxyConfig } from "./config.js";
import { accessLogger, createDataPlane } from "./data-plane.js";
import { createProxyTls, tlsEnabled } from "./tls.js";

export interface ProxyDeps {
  config: ProxyConfig;
  logger: Logger;
  /** Made after the admin server listens, so /-/healthz answers while NATS is unreachable. */
  connect: () => Promise<NatsConnection>;
  /** A cluster worker: no admin server of its own, it answers the primary instead. */
  worker: boolean;
  /** This process in its load reports (`<host>:<pid>`: each cluster worker reports for itself). */
  proxyId: string;
}

export interface ProxyApp {
  /**
   * Admin server (unless a worker), NATS, both snapshots into the route table, then the data
   * plane. Logs `listening` per server and `ready` once the snapshots are loaded.
   */
  start(): Promise<void>;
  /**
   * /-/ready turns 503; stop taking connections, answer held requests 503, finish every
   * in-flight request (streams too).
   */
  drain(): Promise<void>;
  closePools(): Promise<void>;
  /**
   * Stop the watches and the load reports (one last tick, after any under way, carries the
   * counts since the previous).
   */
  stopFeed(): Promise<void>;
  drainBus(): Promise<void>;
  closeAdmin(): Promise<void>;
}

/** One proxy process: a standalone proxy, or one of the primary's workers. */
export function build(deps: ProxyDeps): ProxyApp {
  const { config, logger, worker } = deps;
  let nc: NatsConnection | null = null;
  let bus: ProxyBus | null = null;
  let ready = false;
  let reports: NodeJS.Timeout | null = null;
  const tls = tlsEnabled(config) ? createProxyTls(config, logger) : null;
  const plane = createDataPlane(
    config,
    logger,
    accessLogger(logger, config.YARD_PROXY_ACCESS_LOG),
    { eject: (r) => bus?.hint(r), demand: (r) => bus?.demand(r) },
    deps.proxyId,
    tls?.serverOptions,
  );
  // One tick at a time: a tick still being sent when the next is due (a loaded machine) lets
  // that one pass; its counts go in the following one, none is lost.
  let ticking: Promise<void> | null = null;
  const sendReports = () => {
    if (ticking || !bus) return;
    ticking = bus.tick(plane.loadReports(Date.now())).finally(() => {
      ticking = null;
    });
  };
  const admin = worker
    ? null
    : createAdminServer(
        {
          routes: () => plane.routes(),
          metrics: async () => ({
            contentType: plane.metrics.registry.contentType,
            body: await plane.metrics.registry.metrics(),
          }),
          ready: () => ready && !plane.isDraining(),
        },
        (err) => logger.warn({ err: String(err) }, "admin request failed"),
      );

  return {
    async start() {
      if (admin) {
        const address = await admin.listen({
          host: config.YARD_PROXY_ADMIN_HOST,
          port: config.YARD_PROXY_ADMIN_PORT,
        });
        logger.info({ server: "admin", address }, "listening");
      }
      nc = await deps.connect();
      bus = await connectRouteTable(nc, plane.table, logger, tls?.services);
      await bus.ready;
      // An https.Server when TLS is on (createProxyServer); its default certificate goes in now.
      if (tls) tls.start(plane.server.server as HttpsServer);
      // The data plane listens only once the table is loaded: no 404/503 from an empty table.
      const address = await plane.server.listen({
        host: config.YARD_PROXY_HOST,
        port: config.YARD_PROXY_PORT,
      });
      logger.info({ server: "proxy", address }, worker ? "worker listening" : "listening");
      if (worker) serveClusterWorker(() => plane.routes(), plane.metrics.registry);
      reports = setInterval(sendReports, config.YARD_PROXY_REPORT_MS);
      ready = true;
      logger.info(
        { version: plane.table.version, services: plane.table.services.size, proxy_id: deps.proxyId },
        "ready",
      );
    },
    drain: () => plane.drain(),
    closePools: () => plane.closePools(),
    stopFeed: async () => {
      if (reports) {
        clearInterval(reports);
        reports = null;
        await ticking;
        sendReports();
        await ticking;
      }
      bus?.stop();
      tls?.stop();
    },
    drainBus: async () => {
      await nc?.drain();
    },
    closeAdmin: async () => {
      await admin?.close();
    },
  };
}
