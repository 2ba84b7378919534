import { connectServiceBus } from "@switchyard/bus";
import { createLogger, loadConfigOrExit, startOrExit } from "@switchyard/runtime";
import { build } from "./app.js";
import { loadConfig } from "./config.js";

const logger = createLogger({ name: "autoscaler" });
const config = loadConfigOrExit(logger, loadConfig, process.exit);

// A connection that cannot be made at all (bad URL or credentials) is fatal.
const nc = await connectServiceBus(config, "yard-autoscaler", logger).catch((err) => {
  logger.error({ err: String(err) }, "cannot connect to NATS");
  process.exit(1);
});
await startOrExit(logger, build({ nc, logger, config }), {
  what: "autoscaler",
  stopStep: "stop deciding",
  after: [{ name: "drain nats", run: () => nc.drain() }],
  exit: process.exit,
});
