import { connectServiceBus } from "@switchyard/bus";
import { createLogger, loadConfigOrExit, onShutdown } from "@switchyard/runtime";
import { build } from "./app.js";
import { loadConfig } from "./config.js";

const logger = createLogger({ name: "autoscaler" });
const config = loadConfigOrExit(logger, loadConfig, process.exit);

// A connection that cannot be made at all (bad URL or credentials) is fatal.
const nc = await connectServiceBus(config, "yard-autoscaler", logger).catch((err) => {
  logger.error({ err: String(err) }, "cannot connect to NATS");
  process.exit(1);
});
const app = build({ nc, logger, config });
let stopping = false;
onShutdown(
  logger,
  [
    {
      name: "stop deciding",
      run: () => {
        stopping = true;
        return app.stop();
      },
    },
    { name: "drain nats", run: () => nc.drain() },
  ],
  { exit: process.exit },
);
try {
  await app.start();
} catch (err) {
  // A SIGTERM while waiting for buckets aborts start(); onShutdown finishes the exit.
  if (!stopping) {
    logger.fatal({ err: String(err) }, "autoscaler failed to start");
    process.exit(1);
  }
}
