import type { NatsConnection } from "@nats-io/transport-node";
import { connectBus } from "./connect.js";
import type { Logger } from "./logger.js";

export interface BusConfig {
  NATS_URL: string;
  NATS_USER?: string;
  NATS_PASS?: string;
}

/**
 * A long-running service's connection: it waits for NATS to come up (a service may start before
 * the server). A connection that cannot be made at all (bad credentials, bad URL) rejects with
 * SY_ERR_BUS_UNREACHABLE naming the URL without the password; the service's main.ts exits.
 */
export function connectServiceBus(cfg: BusConfig, name: string, logger: Logger): Promise<NatsConnection> {
  return connectBus({
    url: cfg.NATS_URL,
    name,
    user: cfg.NATS_USER,
    pass: cfg.NATS_PASS,
    logger,
    waitOnFirstConnect: true,
  });
}

/**
 * connectServiceBus for a main.ts: a connection that cannot be made at all is logged (without
 * the password) and the service exits 1 through `exit` (main.ts passes process.exit).
 */
export function connectServiceBusOrExit(
  cfg: BusConfig,
  name: string,
  logger: Logger,
  exit: (code: number) => never,
): Promise<NatsConnection> {
  return connectServiceBus(cfg, name, logger).catch((err) => {
    logger.error({ err: String(err) }, "cannot connect to NATS");
    return exit(1);
  });
}
