import { connectBus } from "@switchyard/bus";
import { formatError } from "@switchyard/contracts";
import { createLogger, onShutdown } from "@switchyard/runtime";
import { build } from "./app.js";
import { loadConfig, type ProberConfig } from "./config.js";

const logger = createLogger({ name: "prober" });
let config: Readonly<ProberConfig>;
try {
  config = loadConfig();
} catch (err) {
  logger.fatal({ err: formatError(err as Error) }, "invalid configuration");
  process.exit(1);
}
logger.level = config.LOG_LEVEL;

const nc = await connectBus({
  url: config.NATS_URL,
  name: "yard-prober",
  user: config.NATS_USER,
  pass: config.NATS_PASS,
  logger,
  waitOnFirstConnect: true,
}).catch((err) => {
  logger.fatal({ err: String(err) }, "cannot connect to NATS");
  process.exit(1);
});
const app = build({ nc, logger, config });
let stopping = false;
onShutdown(logger, [
  {
    name: "stop probing",
    run: () => {
      stopping = true;
      return app.stop();
    },
  },
  { name: "drain nats", run: () => nc.drain() },
]);
try {
  await app.start();
} catch (err) {
  // A SIGTERM while waiting for buckets aborts start(); onShutdown finishes the exit.
  if (!stopping) {
    logger.fatal({ err: String(err) }, "prober failed to start");
    process.exit(1);
  }
}
