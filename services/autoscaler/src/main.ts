import { campaignFor, connectServiceBusOrExit, type Lease } from "@switchyard/bus";
import { createLogger, leadOrStandBy, loadConfigOrExit, loadLeaseConfig } from "@switchyard/runtime";
import { build } from "./app.js";
import { loadConfig } from "./config.js";
import { hear } from "./hearing.js";

const logger = createLogger({ name: "autoscaler" });
const config = loadConfigOrExit(logger, loadConfig, process.exit);
const leaseConfig = loadConfigOrExit(logger, () => ({ ...config, ...loadLeaseConfig() }), process.exit);

const nc = await connectServiceBusOrExit(config, "yard-autoscaler", logger, process.exit);
// A hot standby: the proxies' reports are heard from now on, leading or not (read-only), so a
// takeover decides at once rather than after a new warm-up.
const hearing = hear(nc, logger, config);
// One autoscaler decides at a time: the holder of the `autoscaler` lease; others stand by.
let lease: Lease | null = null;
await leadOrStandBy(
  logger,
  async (on, signal) => {
    lease = await campaignFor(nc, "autoscaler", leaseConfig, logger, on, signal);
    return lease;
  },
  () => build({ nc, logger, config, fence: lease!, hearing }),
  {
    what: "autoscaler",
    stopStep: "stop deciding",
    after: [{ name: "drain nats", run: () => nc.drain() }],
    exit: process.exit,
  },
);
