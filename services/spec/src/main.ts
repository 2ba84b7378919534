import { connectServiceBusOrExit } from "@switchyard/bus";
import { createLogger, loadConfigOrExit, onShutdown } from "@switchyard/runtime";
import { build } from "./app.js";
import { loadConfig } from "./config.js";

const logger = createLogger({ name: "spec" });
const config = loadConfigOrExit(logger, loadConfig, process.exit);

const nc = await connectServiceBusOrExit(config, "yard-spec", logger, process.exit);
const app = build({ nc, logger, config });
onShutdown(
  logger,
  [
    { name: "stop bus requests", run: () => app.stopBus() },
    { name: "close http", run: () => app.closeHttp() },
    { name: "drain nats", run: () => nc.drain() },
  ],
  { exit: process.exit },
);
try {
  await app.start();
} catch (err) {
  logger.fatal({ err: String(err) }, "spec service failed to start");
  process.exit(1);
}
