import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServerOptions as HttpsOptions } from "node:https";
import type { Logger } from "@switchyard/bus";
import type { LoadReport } from "@switchyard/contracts";
import { Pool } from "undici";
import type { ProxyConfig } from "./config.js";
import { type AccessLog, createForwarder, type ForwardDeps } from "./forward.js";
import { Hold } from "./hold.js";
import { LoadReports } from "./load-report.js";
import { ProxyMetrics } from "./metrics.js";
import { replicaConnector } from "./replica-socket.js";
import { loadOf, type Replica, RouteTable, type ServiceEntry } from "./route-table.js";
import { inFlightByService, routesView } from "./routes-view.js";
import { createProxyServer, type ProxyServer } from "./server.js";
import { createUpgradeHandler } from "./upgrade.js";

export interface DataPlane {
  table: RouteTable<Pool>;
  metrics: ProxyMetrics;
  server: ProxyServer;
  /** The raw (req, res) data-plane handler the server calls. */
  forward: (req: IncomingMessage, res: ServerResponse) => void;
  routes(): ReturnType<typeof routesView>;
  /** This interval's load reports, one per service routed (LoadReports.tick). */
  loadReports(now: number): Iterable<LoadReport>;
  /**
   * Stop taking connections, let every in-flight request (streams included) finish, then close
   * the remaining (idle keep-alive) client connections. Resolves when the server is closed.
   */
  drain(): Promise<void>;
  isDraining(): boolean;
  closePools(): Promise<void>;
}

/** What the data plane tells the bus. */
export interface PlaneSignals {
  /** A replica refused or reset a connection and was ejected (the app sends a ProbeHint). */
  eject(r: Replica<Pool>): void;
  /** A request was just held at zero replicas: this report goes out now, not at the interval. */
  demand(r: LoadReport): void;
}

/**
 * Everything one proxy process serves with, minus NATS: route table with an undici Pool per
 * replica (keep-alive, pipelining 1, no connection cap), the forwarder, the data-plane server,
 * the scale-from-zero hold and the load counts (`proxyId` names this process in its reports).
 */
export function createDataPlane(
  cfg: ProxyConfig,
  logger: Logger,
  accessLog: AccessLog,
  signals: PlaneSignals,
  proxyId: string,
  /** Serve HTTPS with these options (ProxyTls.serverOptions); plain HTTP without. */
  https?: HttpsOptions,
): DataPlane {
  const pools = new Set<Pool>();
  const load = new LoadReports(proxyId, cfg.YARD_PROXY_REPORT_MS, cfg.YARD_PROXY_REPORT_HEARTBEAT_MS);
  const hold = new Hold(cfg.YARD_PROXY_HOLD_MAX, cfg.YARD_PROXY_HOLD_TIMEOUT_MS, (service) => {
    const svc = table.get(service);
    const r = svc ? load.demand(loadOf(svc), hold.size(service), Date.now()) : null;
    logger.info({ service, report: r !== null }, "request held: service has no ready replica yet");
    if (r) signals.demand(r);
  });
  const table = new RouteTable<Pool>({
    // The first replica of a service that idled at zero: the requests held for it go now.
    routable: (service) => hold.release(service),
    removed: (service) => hold.endService(service, "removed"),
    open(url) {
      const p = new Pool(url, {
        connections: null,
        pipelining: 1,
        connect: replicaConnector({ timeout: cfg.YARD_PROXY_CONNECT_TIMEOUT_MS }),
        headersTimeout: cfg.YARD_PROXY_HEADERS_TIMEOUT_MS,
        bodyTimeout: cfg.YARD_PROXY_IDLE_TIMEOUT_MS,
        keepAliveTimeout: 4_000,
      });
      pools.add(p);
      return p;
    },
    close(p) {
      // Queued and running requests on a removed replica still finish (no aborted streams).
      pools.delete(p);
      void p.close().catch(() => {});
    },
  });
  const metrics = new ProxyMetrics({
    inFlight: () => inFlightByService(table),
    held: () => hold.sizes(),
    version: () => table.version,
  });
  let draining = false;
  const active: ForwardDeps["active"] = { count: 0, onIdle: null };
  const deps: ForwardDeps = {
    active,
    table,
    metrics,
    accessLog,
    draining: () => draining,
    opts: {
      domain: cfg.YARD_DOMAIN.toLowerCase(),
      defaultService: cfg.YARD_DEFAULT_SERVICE,
      retries: cfg.YARD_PROXY_RETRIES,
      replayMaxBytes: cfg.YARD_PROXY_REPLAY_MAX_BYTES,
      forwardedHeaders: cfg.YARD_PROXY_FORWARDED_HEADERS,
      headersTimeoutMs: cfg.YARD_PROXY_HEADERS_TIMEOUT_MS,
      idleTimeoutMs: cfg.YARD_PROXY_IDLE_TIMEOUT_MS,
      bodyTimeoutMs: cfg.YARD_PROXY_BODY_TIMEOUT_MS,
      ejectAfter: cfg.YARD_PROXY_EJECT_AFTER,
      ejectMaxShare: cfg.YARD_PROXY_EJECT_MAX_SHARE,
      retryNonIdempotent: cfg.YARD_PROXY_RETRY_NON_IDEMPOTENT,
      holdMax: cfg.YARD_PROXY_HOLD_MAX,
      holdTimeoutMs: cfg.YARD_PROXY_HOLD_TIMEOUT_MS,
    },
    load,
    hold,
    eject(r) {
      const now = Date.now();
      if (r.ejectedUntil > now) return; // already out: one hint per ejection
      table.eject(r, now + cfg.YARD_PROXY_EJECT_MS);
      metrics.ejection(r.service);
      logger.warn({ service: r.service, replica: r.key }, "replica ejected");
      signals.eject(r);
    },
  };
  const forward = createForwarder(deps);
  const server = createProxyServer(forward, createUpgradeHandler(forward), https);
  return {
    table,
    metrics,
    server,
    forward,
    routes: () => routesView(table, Date.now(), (s) => hold.size(s)),
    // A snapshot of the services, each one's report made as the tick reaches it (LoadReports.tick).
    loadReports: (now) => load.tick(loadsOf([...table.services.values()]), (s) => hold.size(s), now),
    async drain() {
      draining = true;
      const closed = server.close();
      // A held request has no replica to finish on: it is answered 503 now (no new one is held).
      hold.endAll("shutdown");
      if (active.count > 0)
        await new Promise<void>((r) => {
          active.onIdle = r;
        });
      // Nothing in flight: what is left are idle keep-alive sockets (and WebSocket tunnels).
      server.server.closeAllConnections();
      await closed;
    },
    isDraining: () => draining,
    async closePools() {
      await Promise.all([...pools].map((p) => p.close().catch(() => {})));
    },
  };
}

/** Access log sink by YARD_PROXY_ACCESS_LOG: every request, only failures, or nothing. */
export function accessLogger(logger: Logger, mode: ProxyConfig["YARD_PROXY_ACCESS_LOG"]): AccessLog {
  const all = mode === "all";
  const off = mode === "off";
  return {
    wants: (status, error) => !off && (all || status >= 500 || status === 499 || error !== undefined),
    write: (e) => logger.info(e, "request"),
  };
}

function* loadsOf<U>(services: readonly ServiceEntry<U>[]) {
  for (const s of services) yield loadOf(s);
}
