// @pure: no I/O (tools/lint-boundaries checks it)
import { z } from "zod";

// SkyServe's `service:` JSON schema (skyserve.md §1.1), `additionalProperties: false` at every
// level. Bounds that SkyServe checks later (ports 1..65535) or that our contracts need
// (non-negative delays) are enforced here so they surface as issues with a path.
const nonNeg = z.number().min(0, "must be 0 or more");
const count = z.number().int("must be a whole number").min(0, "must be 0 or more");

export const QPS_KEY_RE = /^[A-Z0-9]+(?::[0-9]+)?$/;

const ProbeObject = z.strictObject(
  {
    path: z.string(),
    initial_delay_seconds: nonNeg.optional(),
    timeout_seconds: z.number().positive("must be greater than 0").optional(),
    post_data: z
      .union([z.string(), z.record(z.string(), z.unknown())], {
        error: "expected a JSON string or a mapping",
      })
      .optional(),
    headers: z.record(z.string(), z.string("header values must be strings")).optional(),
  },
  { error: "expected a path string (/health) or a mapping with a path" },
);

export const ServiceSchema = z.strictObject({
  // The string form is the path alone.
  readiness_probe: z.preprocess((v) => (typeof v === "string" ? { path: v } : v), ProbeObject).optional(),
  replicas: count.optional(),
  workers: count.optional(),
  pool: z.boolean().optional(),
  replica_policy: z
    .strictObject({
      min_replicas: count,
      max_replicas: count.optional(),
      num_overprovision: count.optional(),
      target_qps_per_replica: z
        .union([nonNeg, z.record(z.string().regex(QPS_KEY_RE), nonNeg)], {
          error: "expected a number ≥ 0, or a mapping of accelerator (e.g. A100 or H100:1) to a number ≥ 0",
        })
        .optional(),
      dynamic_ondemand_fallback: z.boolean().optional(),
      base_ondemand_fallback_replicas: count.optional(),
      spot_placer: z.string().optional(),
      upscale_delay_seconds: nonNeg.optional(),
      downscale_delay_seconds: nonNeg.optional(),
    })
    .optional(),
  ports: z
    .number()
    .int("must be a whole number")
    .min(1, "Port must be between 1 and 65535.")
    .max(65535, "Port must be between 1 and 65535.")
    .optional(),
  load_balancing_policy: z.string().optional(),
  tls: z.strictObject({ keyfile: z.string(), certfile: z.string() }).optional(),
});
export type ServiceInput = z.infer<typeof ServiceSchema>;
