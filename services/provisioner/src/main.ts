import { connectServiceBusOrExit, type NatsConnection } from "@switchyard/bus";
import { formatError, YardError } from "@switchyard/contracts";
import { createLogger, loadConfigOrExit, onShutdown } from "@switchyard/runtime";
import { build, type ProvisionerApp } from "./app.js";
import { createBackend } from "./backends/index.js";
import { loadConfig } from "./config.js";

// The provisioner: single writer of yard-replicas; runs replicas with the backend YARD_BACKEND names.
const logger = createLogger({ name: "provisioner" });
const config = loadConfigOrExit(logger, loadConfig, process.exit);
const backend = createBackend(config, logger);
let nc: NatsConnection | null = null;
/** Set once started: a SIGTERM before that (waiting for NATS or the buckets) has nothing to stop. */
let running: ProvisionerApp | null = null;
// Registered first: a SIGTERM while waiting for NATS or for the buckets exits 0 too.
onShutdown(
  logger,
  [
    { name: "stop replicas", run: () => running?.stop() },
    { name: "drain nats", run: () => running && nc?.drain() },
  ],
  { graceMs: config.YARD_TERMINATE_GRACE_MS + 20_000, exit: process.exit },
);
nc = await connectServiceBusOrExit(config, "yard-provisioner", logger, process.exit);
try {
  const app = build({ nc, logger, config, backend });
  const started = await app.start();
  running = app;
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
  logger.error(
    { err: err instanceof YardError ? formatError(err) : String(err) },
    "provisioner failed to start",
  );
  process.exit(1);
}
