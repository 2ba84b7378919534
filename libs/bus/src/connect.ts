import { connect, type NatsConnection } from "@nats-io/transport-node";
import { inboxPrefixOf, YardError } from "@switchyard/contracts";
import type { Logger } from "./logger.js";

export interface BusOptions {
  url: string;
  /** Connection name shown by `nats-server` monitoring, e.g. `yard-proxy`. */
  name: string;
  user?: string;
  pass?: string;
  logger: Logger;
  /** Keep retrying the first connect (services) instead of failing at once (CLI). */
  waitOnFirstConnect?: boolean;
  timeoutMs?: number;
  /** The last sentence of the "cannot reach NATS" message: how this program's user fixes it. */
  hint?: string;
}

/** Connect to NATS; failures become SY_ERR_BUS_UNREACHABLE naming the URL (never the password). */
export async function connectBus(o: BusOptions): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: o.url.split(","),
      name: o.name,
      user: o.user || undefined,
      pass: o.pass || undefined,
      // Least privilege: a user may subscribe to its own inboxes only (deploy/nats/yard.conf).
      inboxPrefix: o.user ? inboxPrefixOf(o.user) : undefined,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: o.waitOnFirstConnect ?? false,
      timeout: o.timeoutMs ?? 5_000,
    });
  } catch (err) {
    // The client's message names the server it tried, never the credentials it was given.
    const why = err instanceof Error ? err.message : String(err);
    const hint = o.hint ?? "Is nats-server running? Set NATS_URL to its address.";
    throw new YardError(
      "SY_ERR_BUS_UNREACHABLE",
      `cannot reach NATS at ${redactUrl(o.url)}: ${why}. ${hint}`,
      [],
      {
        cause: err,
      },
    );
  }
  void watchStatus(nc, o.logger);
  return nc;
}

async function watchStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === "disconnect") logger.warn({ event: "bus.disconnected" }, "NATS connection lost");
    else if (s.type === "reconnect") logger.info({ event: "bus.reconnected" }, "NATS connection back");
  }
}

/** nats://user:pass@host → nats://host, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/g, "//");
}
