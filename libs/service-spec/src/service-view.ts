// @pure: no I/O (tools/lint-boundaries checks it)
import { isRecord } from "./issues.js";

/**
 * A lenient, typed view of a raw `service:` section: a field of the wrong type reads as absent.
 * The schema reports the type error; the cross-field rules run on this view so that one bad
 * field does not hide the other problems of the file.
 */
export interface ServiceView {
  present: Set<string>;
  policyPresent: Set<string>;
  probePresent: Set<string>;
  probeIsString: boolean;
  path?: string;
  postData?: unknown;
  headers?: Record<string, unknown>;
  replicas?: number;
  workers?: number;
  pool: boolean;
  hasPolicy: boolean;
  min?: number;
  max?: number;
  qps?: number | Record<string, number>;
  dynamicFallback?: boolean;
  baseFallback?: number;
  spotPlacer?: string;
  lbPolicy?: string;
  ports?: number;
}

const int = (v: unknown) => (typeof v === "number" && Number.isInteger(v) ? v : undefined);
const str = (v: unknown) => (typeof v === "string" ? v : undefined);

export function serviceView(raw: Record<string, unknown>): ServiceView {
  const policy = isRecord(raw.replica_policy) ? raw.replica_policy : {};
  const probeRaw = raw.readiness_probe;
  const probe = typeof probeRaw === "string" ? { path: probeRaw } : isRecord(probeRaw) ? probeRaw : {};
  const qps = policy.target_qps_per_replica;
  return {
    present: new Set(Object.keys(raw)),
    policyPresent: new Set(Object.keys(policy)),
    probePresent: new Set(typeof probeRaw === "string" ? [] : Object.keys(probe)),
    probeIsString: typeof probeRaw === "string",
    path: str(probe.path),
    postData: probe.post_data,
    headers: isRecord(probe.headers) ? probe.headers : undefined,
    replicas: int(raw.replicas),
    workers: int(raw.workers),
    pool: raw.pool === true,
    hasPolicy: raw.replica_policy !== undefined,
    min: int(policy.min_replicas),
    max: int(policy.max_replicas),
    qps: typeof qps === "number" || isRecord(qps) ? (qps as number | Record<string, number>) : undefined,
    dynamicFallback:
      typeof policy.dynamic_ondemand_fallback === "boolean" ? policy.dynamic_ondemand_fallback : undefined,
    baseFallback: int(policy.base_ondemand_fallback_replicas),
    spotPlacer: str(policy.spot_placer),
    lbPolicy: str(raw.load_balancing_policy),
    ports: int(raw.ports),
  };
}

/** SkyServe's `use_ondemand_fallback`: dynamic fallback on, or a base of on-demand replicas. */
export function usesOndemandFallback(v: ServiceView): boolean {
  return v.dynamicFallback === true || (v.baseFallback ?? 0) > 0;
}
