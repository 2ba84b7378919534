import { CommonEnv, millis, parseEnv } from "@switchyard/runtime";
import { z } from "zod";

/**
 * Prober env vars (parsed once at start):
 * - NATS_URL / NATS_USER / NATS_PASS / LOG_LEVEL: as every service.
 * - YARD_PROBE_INTERVAL_MS (2000): time between two probes of a replica (SkyServe: 10 s).
 * - YARD_PROBE_STARTING_INTERVAL_MS (100): the same for a replica that never passed a probe, so a
 *   replica that finishes loading is routed within it (0 or >= the interval: no faster tick).
 * - YARD_PROBE_FAILURE_THRESHOLD_MS (180000): a replica that was ready and then failed every
 *   probe for this long is reported FAILED_PROBING (SkyServe's 180 s).
 * - YARD_PROBE_CONCURRENCY (64): probes in flight at once across all replicas.
 */
export const ProberEnv = z.object({
  ...CommonEnv,
  YARD_PROBE_INTERVAL_MS: millis(2_000).pipe(z.number().min(10)),
  YARD_PROBE_STARTING_INTERVAL_MS: millis(100).pipe(
    z.number().refine((n) => n === 0 || n >= 10, "0 or at least 10"),
  ),
  YARD_PROBE_FAILURE_THRESHOLD_MS: millis(180_000),
  YARD_PROBE_CONCURRENCY: z.coerce.number().int().min(1).default(64),
});
export type ProberConfig = z.infer<typeof ProberEnv>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ProberConfig> {
  return parseEnv(ProberEnv, env);
}
