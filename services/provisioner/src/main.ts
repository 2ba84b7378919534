import { campaignFor, connectServiceBusOrExit, type Lease, type NatsConnection } from "@switchyard/bus";
import { formatError, YardError } from "@switchyard/contracts";
import { createLogger, leadOrStandBy, loadConfigOrExit, loadLeaseConfig } from "@switchyard/runtime";
import { build } from "./app.js";
import { createBackend } from "./backends/index.js";
import { loadConfig } from "./config.js";

// The provisioner: single writer of yard-replicas; runs replicas with the backend YARD_BACKEND
// names. Several may run: the holder of the `provisioner` lease acts, the others stand by and,
// taking over, adopt the replicas that run (the restart path: recovery.ts), never relaunch them.
const logger = createLogger({ name: "provisioner" });
const config = loadConfigOrExit(logger, loadConfig, process.exit);
const leaseConfig = loadConfigOrExit(logger, () => ({ ...config, ...loadLeaseConfig() }), process.exit);
let nc: NatsConnection | null = null;
let lease: Lease | null = null;
// The shutdown is registered first: a SIGTERM while waiting for NATS or the buckets exits 0 too.
await leadOrStandBy(
  logger,
  async (on, signal) => {
    nc = await connectServiceBusOrExit(config, "yard-provisioner", logger, process.exit);
    lease = await campaignFor(nc, "provisioner", leaseConfig, logger, on, signal);
    return lease;
  },
  () => {
    // A backend per term: stop() closes it.
    const app = build({ nc: nc!, logger, config, backend: createBackend(config, logger), fence: lease! });
    return {
      async start() {
        try {
          const started = await app.start();
          logger.info(
            {
              backend: config.YARD_BACKEND,
              state_dir: config.YARD_STATE_DIR,
              inventory: started.inventory,
              replicas: started.replicas,
              keep_replicas_on_exit: config.YARD_KEEP_REPLICAS_ON_EXIT,
            },
            "ready",
          );
        } catch (err) {
          throw err instanceof YardError ? new Error(formatError(err)) : err;
        }
      },
      stop: (why) => app.stop(why),
    };
  },
  {
    what: "provisioner",
    stopStep: "stop replicas",
    after: [{ name: "drain nats", run: () => nc?.drain() }],
    exit: process.exit,
    graceMs: config.YARD_TERMINATE_GRACE_MS + 20_000,
  },
);
