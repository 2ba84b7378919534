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
 * the server), and a connection that cannot be made is fatal (exit 1, logged without the password).
 */
export function connectServiceBus(cfg: BusConfig, name: string, logger: Logger): Promise<NatsConnection> {
  return connectBus({
    url: cfg.NATS_URL,
    name,
    user: cfg.NATS_USER,
    pass: cfg.NATS_PASS,
    logger,
    waitOnFirstConnect: true,
  }).catch((err) => {
    logger.error({ err: String(err) }, "cannot connect to NATS");
    process.exit(1);
  });
}
