import { campaignFor, connectServiceBusOrExit, type Lease } from "@switchyard/bus";
import { createLogger, leadOrStandBy, loadConfigOrExit, loadLeaseConfig } from "@switchyard/runtime";
import { build } from "./app.js";
import { loadConfig } from "./config.js";

const logger = createLogger({ name: "prober" });
const config = loadConfigOrExit(logger, loadConfig, process.exit);
const leaseConfig = loadConfigOrExit(logger, () => ({ ...config, ...loadLeaseConfig() }), process.exit);

const nc = await connectServiceBusOrExit(config, "yard-prober", logger, process.exit);
// One prober writes yard-endpoints at a time: the holder of the `prober` lease; others stand by.
let lease: Lease | null = null;
await leadOrStandBy(
  logger,
  async (on, signal) => {
    lease = await campaignFor(nc, "prober", leaseConfig, logger, on, signal);
    return lease;
  },
  () => build({ nc, logger, config, fence: lease! }),
  {
    what: "prober",
    stopStep: "stop probing",
    after: [{ name: "drain nats", run: () => nc.drain() }],
    exit: process.exit,
  },
);
