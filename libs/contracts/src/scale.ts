// @pure: no I/O (tools/lint-boundaries checks it)
import { z } from "zod";
import { ServiceName } from "./names.js";
import { ReplicaPolicy } from "./spec.js";

export const SCALE_SCHEMA_VERSION = 1;

/**
 * SkyServe's autoscaler constants (sky/serve/constants.py; research/skyserve.md §5). The window
 * is Switchyard's default too; the decision interval is only SkyServe's (Switchyard decides
 * every YARD_AUTOSCALER_INTERVAL_MS and measures the delays in seconds, not in periods).
 */
export const SKYSERVE_AUTOSCALER = {
  qps_window_seconds: 60,
  decision_interval_seconds: 20,
} as const;

/**
 * Why `target_replicas` is what it is. A closed set (yard status words each one):
 * - min_replicas: no `target_qps_per_replica` (autoscaling off), or the load asks for no more.
 * - qps: ceil(qps / target_qps_per_replica) (+ num_overprovision), within [min, max].
 * - max_replicas: the load asks for more than max_replicas.
 * - upscale_delay / downscale_delay: the load asks for more / fewer; the target holds until
 *   the load has asked for it for upscale_delay_seconds / downscale_delay_seconds.
 * - from_zero: demand at zero replicas: scaled up at once, without the delay (as SkyServe).
 * - spec_changed: a new spec revision: recomputed at once, without the delays (as SkyServe).
 * - paused: not enough load reports yet (after a start, a restart or a NATS outage); the target
 *   is kept, and never lowered on missing data.
 */
export const SCALE_REASONS = [
  "min_replicas",
  "qps",
  "max_replicas",
  "upscale_delay",
  "downscale_delay",
  "from_zero",
  "spec_changed",
  "paused",
] as const;
export const ScaleReason = z.enum(SCALE_REASONS);
export type ScaleReason = z.infer<typeof ScaleReason>;

/**
 * The KV value of `yard-scale[<service>]`: the autoscaler's desired replica count. The
 * provisioner uses it (clamped to the spec's min/max replicas) instead of min_replicas when
 * present. The fields after `updated_at` explain the decision (yard status shows them); they
 * are optional so that a record written before them still parses.
 */
export const ScaleRecord = z.object({
  schema: z.literal(SCALE_SCHEMA_VERSION),
  service: ServiceName,
  target_replicas: z.number().int().nonnegative(),
  /** When this record was written. */
  updated_at: z.string(),
  /** The spec revision the decision was made for. */
  revision: z.number().int().positive().optional(),
  reason: ScaleReason.optional(),
  /** Requests per second over the window, summed over every proxy's reports; null: none yet. */
  qps: z.number().nonnegative().nullable().optional(),
  target_qps_per_replica: ReplicaPolicy.shape.target_qps_per_replica.optional(),
  /** What the load asks for now (num_overprovision included); differs from the target while a delay runs. */
  wanted_replicas: z.number().int().nonnegative().nullable().optional(),
  /** Since when the load has asked for `wanted_replicas` (the start of the delay), if it differs. */
  pending_since: z.string().nullable().optional(),
  /** When `target_replicas` last changed. */
  decided_at: z.string().optional(),
});
export type ScaleRecord = z.infer<typeof ScaleRecord>;
