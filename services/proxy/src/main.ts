import cluster from "node:cluster";
import { hostname } from "node:os";
import { connectServiceBus } from "@switchyard/bus";
import { createLogger, loadConfigOrExit, onShutdown } from "@switchyard/runtime";
import { build } from "./app.js";
import { loadConfig } from "./config.js";
import { proxyIdOf } from "./load-report.js";
import { buildPrimary, WORKER_EXIT_MARGIN_MS } from "./primary.js";

const logger = createLogger({ name: "proxy" });
const config = loadConfigOrExit(logger, loadConfig, process.exit);

let started: Promise<void>;
let stopping = false;
if (config.YARD_PROXY_WORKERS > 1 && cluster.isPrimary) {
  // The primary serves no requests: its workers (this same file, forked) do.
  const primary = buildPrimary({ config, logger });
  onShutdown(
    logger,
    [
      { name: "drain workers", exitCode: () => primary.stopWorkers() },
      { name: "close admin server", run: () => primary.closeAdmin() },
    ],
    { graceMs: config.YARD_PROXY_DRAIN_MS + WORKER_EXIT_MARGIN_MS, exit: process.exit },
  );
  started = primary.start();
} else {
  const app = build({
    config,
    logger,
    worker: cluster.isWorker,
    proxyId: proxyIdOf(hostname(), process.pid),
    connect: () => connectServiceBus(config, "yard-proxy", logger),
  });
  // Installed before start(): a SIGTERM while NATS is still unreachable also exits cleanly.
  onShutdown(
    logger,
    [
      {
        name: "drain proxy server",
        run: () => {
          stopping = true;
          return app.drain();
        },
      },
      { name: "close upstream pools", run: () => app.closePools() },
      { name: "stop route feed", run: () => app.stopFeed() },
      { name: "drain NATS", run: () => app.drainBus() },
      { name: "close admin server", run: () => app.closeAdmin() },
    ],
    { graceMs: config.YARD_PROXY_DRAIN_MS, exit: process.exit },
  );
  started = app.start();
}
try {
  await started;
} catch (err) {
  // A SIGTERM while waiting for NATS or the buckets cuts start() short; onShutdown finishes
  // the exit. Anything else, a NATS connection that cannot be made included, is fatal.
  if (!stopping) {
    logger.fatal({ err: String(err) }, "proxy failed to start");
    process.exit(1);
  }
}
