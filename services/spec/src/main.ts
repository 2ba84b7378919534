import { connectBus } from "@switchyard/bus";
import { formatError } from "@switchyard/contracts";
import { createLogger, onShutdown } from "@switchyard/runtime";
import { build } from "./app.js";
import { loadConfig, type SpecConfig } from "./config.js";

const logger = createLogger({ name: "spec" });
let config: Readonly<SpecConfig>;
try {
  config = loadConfig();
} catch (err) {
  logger.fatal({ err: formatError(err as Error) }, "invalid configuration");
  process.exit(1);
}
logger.level = config.LOG_LEVEL;

const nc = await connectBus({
  url: config.NATS_URL,
  name: "yard-spec",
  user: config.NATS_USER,
  pass: config.NATS_PASS,
  logger,
  waitOnFirstConnect: true,
}).catch((err) => {
  logger.fatal({ err: String(err) }, "cannot connect to NATS");
  process.exit(1);
});
const app = build({ nc, logger, config });
onShutdown(logger, [
  { name: "stop bus requests", run: () => app.stopBus() },
  { name: "close http", run: () => app.closeHttp() },
  { name: "drain nats", run: () => nc.drain() },
]);
try {
  await app.start();
} catch (err) {
  logger.fatal({ err: String(err) }, "spec service failed to start");
  process.exit(1);
}
