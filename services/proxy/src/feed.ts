import type { NatsConnection } from "@nats-io/transport-node";
import { type Logger, openBucket, watchBucket } from "@switchyard/bus";
import { Buckets, EndpointRecord, ServiceRoute } from "@switchyard/contracts";
import type { RouteTable } from "./route-table.js";

/**
 * Feed the route table from yard-endpoints (present ⇔ ready) and yard-services (policy and
 * target QPS; never yard-specs, which holds secrets). `ready` resolves once both snapshots are
 * applied. watchBucket resumes from its last revision after a NATS outage; meanwhile the table
 * keeps serving what it had.
 */
export async function feedRouteTable<U>(
  nc: NatsConnection,
  table: RouteTable<U>,
  logger: Logger,
  onChange: () => void = () => {},
): Promise<{ ready: Promise<void>; stop(): void }> {
  const [endpoints, services] = await Promise.all([
    openBucket(nc, Buckets.endpoints, { logger }),
    openBucket(nc, Buckets.services, { logger }),
  ]);
  const sw = watchBucket(
    services,
    ServiceRoute,
    (c) => {
      if (c.op === "put") table.putService(c.value);
      else table.deleteService(c.key);
      if (!c.initial)
        logger.info(
          { op: c.op, service: c.key, policy: c.op === "put" ? c.value.load_balancing_policy : null },
          "service route changed",
        );
      onChange();
    },
    logger,
  );
  const ew = watchBucket(
    endpoints,
    EndpointRecord,
    (c) => {
      if (c.op === "put") table.putEndpoint(c.key, c.value, c.revision);
      else table.deleteEndpoint(c.key, c.revision);
      if (!c.initial) logger.info({ op: c.op, replica: c.key, version: c.revision }, "route table changed");
      onChange();
    },
    logger,
  );
  return {
    ready: Promise.all([sw.ready, ew.ready]).then(() => {}),
    stop() {
      sw.stop();
      ew.stop();
    },
  };
}
