import { formatError, YardError } from "@switchyard/contracts";
import { createLogger, loadConfigOrExit, onShutdown } from "@switchyard/runtime";
import { loadConfig } from "./config.js";
import { startProvisioner } from "./service.js";

// The provisioner: single writer of yard-replicas; runs replicas with the local backend.
const logger = createLogger({ name: "provisioner" });
const cfg = loadConfigOrExit(logger, loadConfig);
let svc: Awaited<ReturnType<typeof startProvisioner>> | null = null;
// Registered first: a SIGTERM while waiting for NATS or for the buckets exits 0 too.
onShutdown(
  logger,
  [{ name: "replicas and bus", run: () => svc?.stop() }],
  cfg.YARD_TERMINATE_GRACE_MS + 20_000,
);
try {
  svc = await startProvisioner(cfg, logger);
  logger.info(
    {
      backend: cfg.YARD_BACKEND,
      state_dir: cfg.YARD_STATE_DIR,
      inventory: svc.inventory,
      replicas: svc.replicas,
      keep_replicas_on_exit: cfg.YARD_KEEP_REPLICAS_ON_EXIT,
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
