import {
  type AcceleratorCandidate,
  DEFAULT_LB_POLICY,
  EndpointRecord,
  fixedReplicaPolicy,
  type LbPolicy,
  REPLICA_SCHEMA_VERSION,
  type ReadinessProbe,
  type ReplicaPolicy,
  ReplicaRecord,
  ResolvedSpec,
  SCALE_SCHEMA_VERSION,
  ScaleRecord,
  ServiceRoute,
  SKYSERVE_DEFAULTS,
  SPEC_SCHEMA_VERSION,
  SpecRecord,
  type UpdateMode,
} from "@switchyard/contracts";
import { z } from "zod";

/**
 * Records as their writers store them, for tests: one builder per bucket value, every field
 * defaulted, the test naming only what it is about. Each record is parsed with its contract
 * schema, so a builder (or an override) that makes an invalid record throws where it is built,
 * not as a confusing "skipping malformed value" inside a service.
 */

/** The time every record carries unless the test gives one: fixed, so tables compare whole records. */
export const RECORD_TIME = "2026-01-01T00:00:00.000Z";

/** The default service name of every builder. */
const SERVICE = "svc";

/** The URL a replica or endpoint gets by default: port 8000 + its id, as in the examples. */
const urlOf = (id: number) => `http://127.0.0.1:${8000 + id}`;

function valid<S extends z.ZodType>(schema: S, what: string, value: z.input<S>): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`testkit built an invalid ${what}:\n${z.prettifyError(r.error)}`);
  return r.data;
}

/** Knobs of a resolved spec; the rest is what resolveSpec fills in for a small CPU service. */
export interface SpecOptions {
  name?: string;
  /** `replicas: n` (min_replicas; also max_replicas unless `maxReplicas`). */
  replicas?: number;
  maxReplicas?: number;
  targetQps?: ReplicaPolicy["target_qps_per_replica"];
  accelerators?: AcceleratorCandidate[];
  envs?: Record<string, string>;
  secretNames?: string[];
  setup?: string | null;
  run?: string | null;
  /** The replica port (resources.ports and service.port). */
  port?: number;
  /** Over the default probe: GET /v1/models, no headers, initial delay 60 s, timeout 15 s. */
  probe?: Partial<ReadinessProbe>;
  lb?: LbPolicy;
}

/** A resolved spec as resolveSpec makes it. */
export function resolvedSpec(o: SpecOptions = {}): ResolvedSpec {
  const port = o.port ?? 8000;
  const replicas = o.replicas ?? 1;
  return valid(ResolvedSpec, "resolved spec", {
    schema: SPEC_SCHEMA_VERSION,
    name: o.name ?? SERVICE,
    envs: o.envs ?? {},
    secret_names: o.secretNames ?? [],
    resources: { accelerators: o.accelerators ?? [], ports: [port], other: {} },
    setup: o.setup ?? null,
    run: o.run === undefined ? "sleep 1000" : o.run,
    workdir: null,
    service: {
      readiness_probe: {
        path: "/v1/models",
        post_data: null,
        initial_delay_seconds: 60,
        timeout_seconds: 15,
        headers: {},
        ...o.probe,
      },
      replica_policy: {
        ...fixedReplicaPolicy(replicas),
        max_replicas: o.maxReplicas ?? replicas,
        target_qps_per_replica: o.targetQps ?? null,
      },
      load_balancing_policy: o.lb ?? DEFAULT_LB_POLICY,
      port,
      tls: null,
    },
    ignored_keys: [],
    warnings: [],
  });
}

/**
 * A `yard-specs` value as the spec service stores it: `spec` when given (e.g. from
 * resolveSpec), else `resolvedSpec(o)`; the record's name is the spec's.
 */
export function specRecord(
  o: SpecOptions & {
    revision?: number;
    digest?: string;
    appliedAt?: string;
    spec?: ResolvedSpec;
    /** `yard update --mode`: absent as after a `yard up`. */
    updateMode?: UpdateMode;
  } = {},
): SpecRecord {
  const spec = o.spec ?? resolvedSpec(o);
  const revision = o.revision ?? 1;
  return valid(SpecRecord, "spec record", {
    schema: SPEC_SCHEMA_VERSION,
    name: spec.name,
    revision,
    digest: o.digest ?? `sha256-${spec.name}-${revision}`,
    applied_at: o.appliedAt ?? RECORD_TIME,
    spec,
    ...(o.updateMode ? { update_mode: o.updateMode } : {}),
  });
}

/** A `yard-services` value (the proxy's routing view) as the spec service stores it. */
export function routeRecord(o: Partial<ServiceRoute> = {}): ServiceRoute {
  return valid(ServiceRoute, "route record", {
    schema: SPEC_SCHEMA_VERSION,
    name: SERVICE,
    revision: 1,
    load_balancing_policy: DEFAULT_LB_POLICY,
    target_qps_per_replica: null,
    replica_policy: {
      min_replicas: 1,
      max_replicas: 1,
      num_overprovision: SKYSERVE_DEFAULTS.num_overprovision,
      upscale_delay_seconds: SKYSERVE_DEFAULTS.upscale_delay_seconds,
      downscale_delay_seconds: SKYSERVE_DEFAULTS.downscale_delay_seconds,
    },
    ...o,
  });
}

/**
 * A `yard-replicas` value as the provisioner writes it: by default a STARTING local CPU replica
 * with a URL whose port the record's `port` repeats. No pid unless given: a record put into a
 * running system must not name a process anyone would signal.
 */
export function replicaRecord(o: Partial<ReplicaRecord> = {}): ReplicaRecord {
  const id = o.id ?? 1;
  const url = o.url === undefined ? urlOf(id) : o.url;
  return valid(ReplicaRecord, "replica record", {
    schema: REPLICA_SCHEMA_VERSION,
    service: SERVICE,
    id,
    revision: 1,
    phase: "STARTING",
    backend: "local",
    url,
    port: portOf(url),
    accelerator: null,
    accelerator_count: null,
    gpu_indices: [],
    handle: null,
    host: "127.0.0.1",
    reason: null,
    message: null,
    launched_at: RECORD_TIME,
    updated_at: RECORD_TIME,
    first_ready_at: null,
    ...o,
  });
}

/** A `yard-endpoints` value as the prober writes it when a replica passes its probe. */
export function endpointRecord(o: Partial<EndpointRecord> = {}): EndpointRecord {
  return valid(EndpointRecord, "endpoint record", {
    schema: REPLICA_SCHEMA_VERSION,
    service: SERVICE,
    replica_id: o.replica_id ?? 1,
    url: urlOf(o.replica_id ?? 1),
    revision: 1,
    accelerator: null,
    ready_at: RECORD_TIME,
    ...o,
  });
}

/** A `yard-scale` value as the autoscaler writes it. */
export function scaleRecord(o: Partial<ScaleRecord> = {}): ScaleRecord {
  return valid(ScaleRecord, "scale record", {
    schema: SCALE_SCHEMA_VERSION,
    service: SERVICE,
    target_replicas: 1,
    updated_at: RECORD_TIME,
    ...o,
  });
}

/** The port of a URL, or null (no URL, or one without an explicit port). */
function portOf(url: string | null): number | null {
  if (!url) return null;
  try {
    const port = new URL(url).port;
    return port ? Number(port) : null;
  } catch {
    return null;
  }
}
