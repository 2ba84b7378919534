import type { Fence, Logger, NatsConnection } from "@switchyard/bus";
import { openSpecStore, serveSpecApi } from "./bus.js";
import type { SpecConfig } from "./config.js";
import { createHandlers } from "./handlers.js";
import { type HttpApi, type HttpApiConfig, startHttpApi } from "./http.js";

export interface SpecDeps {
  nc: NatsConnection;
  logger: Logger;
  config: HttpApiConfig &
    Pick<SpecConfig, "YARD_MAX_REPLICAS_PER_SERVICE"> &
    Partial<Pick<SpecConfig, "YARD_NATS_REPLICAS">>;
  /** The lease's fence: the buckets are written only while this instance holds it (default: always). */
  fence?: Fence;
}

export interface SpecApp {
  /**
   * Create the buckets and stream, serve NATS and (with a token) HTTP; logs "listening" then
   * "ready". `address` is null when the HTTP API is off.
   */
  start(): Promise<{ address: string | null }>;
  /** Stop taking NATS requests (in-flight ones finish). */
  stopBus(): Promise<void>;
  /** Close the HTTP server after in-flight requests finish. */
  closeHttp(): Promise<void>;
}

export function build(deps: SpecDeps): SpecApp {
  const { nc, logger, config } = deps;
  let api: { stop(): Promise<void> } | null = null;
  let http: HttpApi | null = null;

  return {
    async start() {
      const store = await openSpecStore(nc, logger, config.YARD_NATS_REPLICAS ?? 1, undefined, deps.fence);
      const h = createHandlers(store, logger, {
        maxReplicasPerService: config.YARD_MAX_REPLICAS_PER_SERVICE,
        maxPayload: () => nc.info?.max_payload,
      });
      api = serveSpecApi(nc, h, logger);
      http = await startHttpApi(h, config, logger);
      logger.info({}, "ready");
      return { address: http?.address ?? null };
    },
    async stopBus() {
      await api?.stop();
    },
    async closeHttp() {
      await http?.close();
    },
  };
}
