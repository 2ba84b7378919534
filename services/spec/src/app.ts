import type { NatsConnection } from "@nats-io/transport-node";
import { createBucket, ensureEventsStream, jetstream, type Logger, serve } from "@switchyard/bus";
import { ApplyRequest, Buckets, NameRequest, Subjects } from "@switchyard/contracts";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { SpecConfig } from "./config.js";
import { createHandlers } from "./handlers.js";
import { buildHttp } from "./http.js";
import { createSpecStore } from "./spec-store.js";

export interface SpecApp {
  /** Create the buckets and stream, serve NATS and HTTP; logs "listening" then "ready". */
  start(): Promise<{ address: string }>;
  /** Stop taking NATS requests (in-flight ones finish). */
  stopBus(): Promise<void>;
  /** Close the HTTP server after in-flight requests finish. */
  closeHttp(): Promise<void>;
}

export function build(deps: {
  nc: NatsConnection;
  logger: Logger;
  config: Pick<SpecConfig, "YARD_SPEC_HTTP_HOST" | "YARD_SPEC_HTTP_PORT">;
}): SpecApp {
  const { nc, logger, config } = deps;
  const subs: { stop(): Promise<void> }[] = [];
  let http: FastifyInstance | null = null;

  return {
    async start() {
      const specs = await createBucket(nc, Buckets.specs);
      const services = await createBucket(nc, Buckets.services);
      await ensureEventsStream(nc);
      const store = createSpecStore({ specs, services, js: jetstream(nc), logger });
      const h = createHandlers(store, logger);
      subs.push(
        serve(nc, Subjects.specApply, ApplyRequest, (r) => h.apply(r), logger),
        serve(nc, Subjects.specGet, NameRequest, (r) => h.get(r.name), logger),
        serve(nc, Subjects.specList, z.unknown(), () => h.list(), logger),
        serve(nc, Subjects.specDelete, NameRequest, (r) => h.remove(r.name), logger),
      );
      http = buildHttp(h, logger);
      const address = await http.listen({
        host: config.YARD_SPEC_HTTP_HOST,
        port: config.YARD_SPEC_HTTP_PORT,
      });
      logger.info({ address }, "listening");
      logger.info({}, "ready");
      return { address };
    },
    async stopBus() {
      await Promise.all(subs.map((s) => s.stop()));
    },
    async closeHttp() {
      await http?.close();
    },
  };
}
