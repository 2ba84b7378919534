// @pure: no I/O (tools/lint-boundaries checks it)
import { z } from "zod";
import { ServiceName } from "./names.js";
import { UpdateMode } from "./rollout.js";

export const SPEC_SCHEMA_VERSION = 1;

/** SkyServe's load-balancing policies, in its registry's order (the order its errors list them). */
export const LB_POLICIES = ["round_robin", "least_load", "instance_aware_least_load"] as const;
export const LbPolicy = z.enum(LB_POLICIES);
export type LbPolicy = z.infer<typeof LbPolicy>;

/**
 * What SkyServe fills in for a `service:` section that leaves a field out (sky/serve/constants.py,
 * shared/research/skyserve.md §1.1). `max_replicas` left out means `min_replicas`; the fallback
 * fields, spot placer and target QPS default to none.
 */
export const SKYSERVE_DEFAULTS = {
  readiness_path: "/",
  initial_delay_seconds: 1200,
  timeout_seconds: 15,
  min_replicas: 1,
  num_overprovision: 0,
  upscale_delay_seconds: 300,
  downscale_delay_seconds: 1200,
  load_balancing_policy: "least_load",
} as const;
export const DEFAULT_LB_POLICY: LbPolicy = SKYSERVE_DEFAULTS.load_balancing_policy;

/** One accelerator candidate: `{L4:1, A100:1}` means "one L4 or one A100". */
export const AcceleratorCandidate = z.object({ name: z.string().min(1), count: z.number().positive() });
export type AcceleratorCandidate = z.infer<typeof AcceleratorCandidate>;

export const ReadinessProbe = z.object({
  path: z.string().startsWith("/"),
  /** Present ⇒ the probe is a POST with this JSON body. */
  post_data: z.unknown().nullable(),
  initial_delay_seconds: z.number().nonnegative(),
  timeout_seconds: z.number().positive(),
  headers: z.record(z.string(), z.string()),
});
export type ReadinessProbe = z.infer<typeof ReadinessProbe>;

export const ReplicaPolicy = z.object({
  min_replicas: z.number().int().nonnegative(),
  max_replicas: z.number().int().nonnegative(),
  target_qps_per_replica: z
    .union([z.number().nonnegative(), z.record(z.string(), z.number().nonnegative())])
    .nullable(),
  num_overprovision: z.number().int().nonnegative(),
  upscale_delay_seconds: z.number().nonnegative(),
  downscale_delay_seconds: z.number().nonnegative(),
  dynamic_ondemand_fallback: z.boolean().nullable(),
  base_ondemand_fallback_replicas: z.number().int().nonnegative().nullable(),
  spot_placer: z.string().nullable(),
});
export type ReplicaPolicy = z.infer<typeof ReplicaPolicy>;

/** The policy of `replicas: n` with SkyServe's defaults: no autoscaling. */
export function fixedReplicaPolicy(n: number): ReplicaPolicy {
  return {
    min_replicas: n,
    max_replicas: n,
    target_qps_per_replica: null,
    num_overprovision: SKYSERVE_DEFAULTS.num_overprovision,
    upscale_delay_seconds: SKYSERVE_DEFAULTS.upscale_delay_seconds,
    downscale_delay_seconds: SKYSERVE_DEFAULTS.downscale_delay_seconds,
    dynamic_ondemand_fallback: null,
    base_ondemand_fallback_replicas: null,
    spot_placer: null,
  };
}

export const ResolvedService = z.object({
  readiness_probe: ReadinessProbe,
  replica_policy: ReplicaPolicy,
  load_balancing_policy: LbPolicy,
  /** The replica port the proxy forwards to (service.ports, else the single resources port). */
  port: z.number().int().min(1).max(65535),
  tls: z.object({ keyfile: z.string(), certfile: z.string() }).nullable(),
});
export type ResolvedService = z.infer<typeof ResolvedService>;

/**
 * A validated, resolved service spec: what the spec service stores in `yard-specs` and every
 * other service acts on. Values are final: env overrides merged, `$VARS` substituted, defaults
 * filled. `secret_names` lists env names whose values must never be printed or logged; use
 * `maskSpec` before showing a spec to anyone.
 */
export const ResolvedSpec = z.object({
  schema: z.literal(SPEC_SCHEMA_VERSION),
  name: ServiceName,
  envs: z.record(z.string(), z.string()),
  secret_names: z.array(z.string()),
  resources: z.object({
    /** Candidates, any one of which satisfies a replica; empty = CPU only. */
    accelerators: z.array(AcceleratorCandidate),
    ports: z.array(z.number().int().min(1).max(65535)),
    /** The rest of `resources` as written (cpus, memory, disk_size, ...), kept for other backends. */
    other: z.record(z.string(), z.unknown()),
  }),
  setup: z.string().nullable(),
  run: z.string().nullable(),
  workdir: z.string().nullable(),
  service: ResolvedService,
  /** Task keys accepted from SkyPilot YAML that the local backend does not act on. */
  ignored_keys: z.array(z.string()),
  warnings: z.array(z.string()),
});
export type ResolvedSpec = z.infer<typeof ResolvedSpec>;

/** The KV value of `yard-specs[<name>]`. `revision` counts changed applies: 1, 2, 3 ... */
export const SpecRecord = z.object({
  schema: z.literal(SPEC_SCHEMA_VERSION),
  name: ServiceName,
  revision: z.number().int().positive(),
  /** sha256 of the canonical resolved spec: an identical re-apply makes no new revision. */
  digest: z.string(),
  applied_at: z.string(),
  spec: ResolvedSpec,
  /**
   * How this revision replaces the one before (`yard update --mode`); absent: rolling, as a
   * `yard up` of a changed spec. A property of the change, not of the spec: not in `digest`.
   */
  update_mode: UpdateMode.optional(),
});
export type SpecRecord = z.infer<typeof SpecRecord>;

/** The replica-count numbers of a policy: what the autoscaler needs besides the target QPS. */
export const RouteReplicaPolicy = ReplicaPolicy.pick({
  min_replicas: true,
  max_replicas: true,
  num_overprovision: true,
  upscale_delay_seconds: true,
  downscale_delay_seconds: true,
});
export type RouteReplicaPolicy = z.infer<typeof RouteReplicaPolicy>;

/**
 * The KV value of `yard-services[<name>]`: what a proxy and the autoscaler need, with no envs
 * and no headers (neither may read `yard-specs`, which holds tokens).
 */
export const ServiceRoute = z.object({
  schema: z.literal(SPEC_SCHEMA_VERSION),
  name: ServiceName,
  revision: z.number().int().positive(),
  load_balancing_policy: LbPolicy,
  target_qps_per_replica: ReplicaPolicy.shape.target_qps_per_replica,
  /** Absent in routes written before the autoscaler: it leaves such a service at min_replicas. */
  replica_policy: RouteReplicaPolicy.optional(),
  /**
   * How `revision` takes over from older ones (the spec record's); absent: rolling. In
   * blue_green a proxy routes one revision at a time (activeRevisions, rollout.ts).
   */
  update_mode: UpdateMode.optional(),
});
export type ServiceRoute = z.infer<typeof ServiceRoute>;

export function routeOf(rec: SpecRecord): ServiceRoute {
  const p = rec.spec.service.replica_policy;
  return {
    schema: SPEC_SCHEMA_VERSION,
    name: rec.name,
    revision: rec.revision,
    load_balancing_policy: rec.spec.service.load_balancing_policy,
    target_qps_per_replica: p.target_qps_per_replica,
    replica_policy: {
      min_replicas: p.min_replicas,
      max_replicas: p.max_replicas,
      num_overprovision: p.num_overprovision,
      upscale_delay_seconds: p.upscale_delay_seconds,
      downscale_delay_seconds: p.downscale_delay_seconds,
    },
    ...(rec.update_mode ? { update_mode: rec.update_mode } : {}),
  };
}
