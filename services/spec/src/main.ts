import { campaignFor, connectServiceBusOrExit, createBucket, type Lease } from "@switchyard/bus";
import { Buckets } from "@switchyard/contracts";
import { createLogger, leadOrStandBy, loadConfigOrExit, loadLeaseConfig } from "@switchyard/runtime";
import { build } from "./app.js";
import { loadConfig } from "./config.js";

const logger = createLogger({ name: "spec" });
const config = loadConfigOrExit(logger, loadConfig, process.exit);
const leaseConfig = loadConfigOrExit(logger, () => ({ ...config, ...loadLeaseConfig() }), process.exit);

const nc = await connectServiceBusOrExit(config, "yard-spec", logger, process.exit);
// One spec service answers and writes at a time: the holder of the `spec` lease; others stand
// by (no API subscription, no HTTP listener). Every instance creates yard-leases (create or
// check, as every stream) before it campaigns: the spec service is its creator.
let lease: Lease | null = null;
await leadOrStandBy(
  logger,
  async (on, signal) => {
    await createBucket(nc, Buckets.leases, config.YARD_NATS_REPLICAS);
    lease = await campaignFor(nc, "spec", leaseConfig, logger, on, signal);
    return lease;
  },
  () => {
    const app = build({ nc, logger, config, fence: lease! });
    return {
      start: async () => void (await app.start()),
      // Stop taking NATS requests (in-flight ones finish), then close HTTP after its requests.
      stop: async () => {
        await app.stopBus();
        await app.closeHttp();
      },
    };
  },
  {
    what: "spec",
    stopStep: "stop serving (bus requests, http)",
    after: [{ name: "drain nats", run: () => nc.drain() }],
    exit: process.exit,
  },
);
