import { SKYSERVE_AUTOSCALER } from "@switchyard/contracts";
import { CommonEnv, millis, parseEnv, port } from "@switchyard/runtime";
import { z } from "zod";

const positive = (def: number) =>
  z.coerce.number().int("must be a whole number").positive("must be 1 or more").default(def);

/**
 * Autoscaler env vars (parsed once at start; README table):
 * - NATS_URL / NATS_USER / NATS_PASS / LOG_LEVEL: as every service.
 * - YARD_AUTOSCALER_INTERVAL_MS (1000): time between two decisions (SkyServe: 20 s).
 * - YARD_AUTOSCALER_QPS_WINDOW_S (60): the sliding window QPS is measured over (SkyServe's 60 s).
 * - YARD_AUTOSCALER_WARMUP_MS (5000): after a start or a NATS reconnect, no decision from load
 *   before this much listening; scale-downs wait for a whole window of reports.
 * - YARD_AUTOSCALER_REFRESH_MS (10000): a record whose decision did not change is rewritten for
 *   its QPS at most this often.
 * - YARD_AUTOSCALER_METRICS_HOST / _PORT (127.0.0.1, 9190): Prometheus /metrics (0: any port).
 */
export const AutoscalerEnv = z.object({
  ...CommonEnv,
  YARD_AUTOSCALER_INTERVAL_MS: positive(1_000).pipe(z.number().min(10, "must be 10 or more")),
  YARD_AUTOSCALER_QPS_WINDOW_S: positive(SKYSERVE_AUTOSCALER.qps_window_seconds).pipe(
    z.number().max(86_400, "must be at most 86400 (a day)"),
  ),
  YARD_AUTOSCALER_WARMUP_MS: millis(5_000),
  YARD_AUTOSCALER_REFRESH_MS: millis(10_000),
  YARD_AUTOSCALER_METRICS_HOST: z.string().default("127.0.0.1"),
  YARD_AUTOSCALER_METRICS_PORT: port(9190),
});
export type AutoscalerConfig = z.infer<typeof AutoscalerEnv>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<AutoscalerConfig> {
  return parseEnv(AutoscalerEnv, env);
}
