// @pure: no I/O (tools/lint-boundaries checks it)
import { z } from "zod";
import { ServiceName } from "./names.js";

export const SCALE_SCHEMA_VERSION = 1;

/**
 * The KV value of `yard-scale[<service>]`: the autoscaler's desired replica count. The
 * provisioner uses it (clamped to the spec's min/max replicas) instead of min_replicas when
 * present.
 */
export const ScaleRecord = z.object({
  schema: z.literal(SCALE_SCHEMA_VERSION),
  service: ServiceName,
  target_replicas: z.number().int().nonnegative(),
  updated_at: z.string(),
});
export type ScaleRecord = z.infer<typeof ScaleRecord>;
