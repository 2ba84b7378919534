import { campaignFor, connectServiceBusOrExit, type Lease } from "@switchyard/bus";
import { createLogger, leadOrStandBy, loadConfigOrExit, loadLeaseConfig } from "@switchyard/runtime";
import { type AutoscalerApp, build } from "./app.js";
import { loadConfig } from "./config.js";
import { hear } from "./hearing.js";
import { serveMetrics } from "./metrics-server.js";

const logger = createLogger({ name: "autoscaler" });
const config = loadConfigOrExit(logger, loadConfig, process.exit);
const leaseConfig = loadConfigOrExit(logger, () => ({ ...config, ...loadLeaseConfig() }), process.exit);

const nc = await connectServiceBusOrExit(config, "yard-autoscaler", logger, process.exit);
// A hot standby: the proxies' reports are heard from now on, leading or not (read-only), so a
// takeover decides at once rather than after a new warm-up.
const hearing = hear(nc, logger, config);
// /metrics for the process's life: the leading term's registry, empty while standing by.
let leading: AutoscalerApp | null = null;
const metrics = await serveMetrics(
  () => leading?.registry ?? null,
  config.YARD_AUTOSCALER_METRICS_HOST,
  config.YARD_AUTOSCALER_METRICS_PORT,
).catch((err) => {
  logger.fatal({ err: String(err) }, "cannot serve /metrics (YARD_AUTOSCALER_METRICS_HOST/_PORT)");
  return process.exit(1);
});
logger.info({ server: "metrics", address: metrics.address }, "listening");
// One autoscaler decides at a time: the holder of the `autoscaler` lease; others stand by.
let lease: Lease | null = null;
await leadOrStandBy(
  logger,
  async (on, signal) => {
    lease = await campaignFor(nc, "autoscaler", leaseConfig, logger, on, signal);
    return lease;
  },
  () => {
    const app = build({ nc, logger, config, fence: lease!, hearing });
    return {
      async start() {
        leading = app;
        await app.start();
      },
      async stop() {
        if (leading === app) leading = null;
        await app.stop();
      },
    };
  },
  {
    what: "autoscaler",
    stopStep: "stop deciding",
    after: [
      { name: "close /metrics", run: () => metrics.close() },
      { name: "drain nats", run: () => nc.drain() },
    ],
    exit: process.exit,
  },
);
