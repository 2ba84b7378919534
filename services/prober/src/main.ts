import { connectServiceBusOrExit } from "@switchyard/bus";
import { createLogger, loadConfigOrExit, startOrExit } from "@switchyard/runtime";
import { build } from "./app.js";
import { loadConfig } from "./config.js";

const logger = createLogger({ name: "prober" });
const config = loadConfigOrExit(logger, loadConfig, process.exit);

const nc = await connectServiceBusOrExit(config, "yard-prober", logger, process.exit);
await startOrExit(logger, build({ nc, logger, config }), {
  what: "prober",
  stopStep: "stop probing",
  after: [{ name: "drain nats", run: () => nc.drain() }],
  exit: process.exit,
});
