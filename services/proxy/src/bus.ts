import { type Logger, type NatsConnection, openBucket, watchBucket } from "@switchyard/bus";
import {
  Buckets,
  EndpointRecord,
  EVENT_SCHEMA_VERSION,
  type LoadReport,
  type ProbeHint,
  ServiceRoute,
  Subjects,
  TlsRecord,
} from "@switchyard/contracts";
import { BatchWriter } from "./load-batch.js";
import type { Replica, RouteTable } from "./route-table.js";
import type { ServiceCerts } from "./tls.js";

/**
 * Reports made and serialized per event-loop turn during a tick: ~1 ms of work on this machine
 * (a 10k-service tick took ~50 ms made at once), so no request or token waits longer for it.
 */
export const REPORTS_PER_TURN = 200;

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/**
 * Everything the proxy does on the bus: it reads two buckets (three when it serves HTTPS) and
 * sends two kinds of message (probe hints, load reports), both core NATS and best effort.
 */
export interface ProxyBus {
  /** Resolves once every snapshot is applied (to the table, and to `certs` when given). */
  ready: Promise<void>;
  /** Ask the prober to re-probe a replica this proxy just ejected (best effort). */
  hint(r: Replica<unknown>): void;
  /**
   * Publish a tick's load reports for the autoscaler and the provisioner, batched on
   * `yard.load` (in as few messages as MAX_BATCH_REPORTS/MAX_BATCH_BYTES allow), taking
   * REPORTS_PER_TURN of them per event-loop turn: requests and streams go on between (a tick of
   * 10k services made and sent at once held them up for tens of milliseconds). Resolves once
   * all are sent. Core NATS: a batch lost (an outage) is a gap in the `seq` of each of its
   * reports, which the autoscaler reads as missing data.
   */
  tick(reports: Iterable<LoadReport>): Promise<void>;
  /**
   * Publish one early report now (a request held at zero replicas), with whatever a tick under
   * way has batched before it: reports leave in the order they were made, so each service's
   * `seq` stays in order.
   */
  demand(report: LoadReport): void;
  /** Stop both watches (the connection is the caller's). */
  stop(): void;
}

/**
 * Feed the route table from yard-endpoints (present ⇔ ready) and yard-services (policy and
 * target QPS; never yard-specs, which holds secrets). watchBucket resumes from its last revision
 * after a NATS outage; meanwhile the table keeps serving what it had. With `certs` (HTTPS on),
 * yard-tls feeds each service's `service.tls` certificate to it.
 */
export async function connectRouteTable<U>(
  nc: NatsConnection,
  table: RouteTable<U>,
  logger: Logger,
  certs?: ServiceCerts,
): Promise<ProxyBus> {
  const [endpoints, services] = await Promise.all([
    openBucket(nc, Buckets.endpoints, { logger }),
    openBucket(nc, Buckets.services, { logger }),
  ]);
  // Both snapshots go in as one batch: each service's routable set is computed once, not after
  // each of its endpoints (100k endpoints: the snapshot is most of a proxy's start).
  table.beginBatch();
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
    },
    logger,
  );
  const tw = certs
    ? watchBucket(
        await openBucket(nc, Buckets.tls, { logger }),
        TlsRecord,
        (c) => {
          if (c.op === "put") certs.put(c.value);
          else certs.delete(c.key);
        },
        logger,
      )
    : null;
  // One writer for ticks and early reports alike: whatever is batched leaves in order.
  const load = new BatchWriter();
  const sendLoad = (payload: string | null) => {
    if (payload === null) return;
    try {
      nc.publish(Subjects.load, payload);
    } catch (err) {
      logger.warn({ err: String(err), bytes: payload.length }, "could not send load reports");
    }
  };
  return {
    ready: Promise.all([sw.ready, ew.ready, tw?.ready]).then(() => table.endBatch()),
    hint(r) {
      const hint: ProbeHint = {
        schema: EVENT_SCHEMA_VERSION,
        service: r.service,
        replica_id: r.id,
        url: r.url,
      };
      try {
        nc.publish(Subjects.probeHint, JSON.stringify(hint));
      } catch (err) {
        logger.warn({ err: String(err), replica: r.key }, "could not send probe hint");
      }
    },
    async tick(reports) {
      let n = 0;
      for (const r of reports) {
        sendLoad(load.add(r));
        if (++n % REPORTS_PER_TURN === 0) await nextTurn();
      }
      sendLoad(load.close());
    },
    demand(r) {
      sendLoad(load.add(r));
      sendLoad(load.close());
    },
    stop() {
      sw.stop();
      ew.stop();
      tw?.stop();
    },
  };
}
