import cluster from "node:cluster";
import { createLogger, loadConfigOrExit } from "@switchyard/runtime";
import { runPrimary } from "./cluster.js";
import { loadConfig } from "./config.js";
import { runProxy } from "./serve.js";

const logger = createLogger({ name: "proxy" });
const cfg = loadConfigOrExit(logger, loadConfig);
const run = cfg.YARD_PROXY_WORKERS > 1 && cluster.isPrimary ? runPrimary(cfg, logger) : runProxy(cfg, logger);
run.catch((err) => {
  logger.error({ err: String(err) }, "proxy failed to start");
  process.exit(1);
});
