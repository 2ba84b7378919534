import { connectServiceBus } from "@switchyard/bus";
import { createLogger, loadConfigOrExit, onShutdown } from "@switchyard/runtime";
import { build } from "./app.js";
import { loadConfig } from "./config.js";

const logger = createLogger({ name: "spec" });
const config = loadConfigOrExit(logger, loadConfig, process.exit);

// A connection that cannot be made at all (bad URL or credentials) is fatal.
const nc = await connectServiceBus(config, "yard-spec", logger).catch((err) => {
  logger.error({ err: String(err) }, "cannot connect to NATS");
  process.exit(1);
});
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
