// @pure: no I/O (tools/lint-boundaries checks it)
import { SKYSERVE_DEFAULTS as D, type LbPolicy, type ResolvedService } from "@switchyard/contracts";
import type { ServiceInput } from "./service-schema.js";

/** A schema-valid, cross-field-valid `service:` section → the resolved form with defaults. */
export function normaliseService(s: ServiceInput, port: number): ResolvedService {
  const probe = s.readiness_probe;
  const postData = probe?.post_data;
  const policy = s.replica_policy;
  const min = s.replicas ?? policy?.min_replicas ?? D.min_replicas;
  return {
    readiness_probe: {
      path: probe?.path ?? D.readiness_path,
      // A string body is JSON text (cross-field rules checked it parses).
      post_data:
        postData === undefined ? null : typeof postData === "string" ? JSON.parse(postData) : postData,
      initial_delay_seconds: probe?.initial_delay_seconds ?? D.initial_delay_seconds,
      timeout_seconds: probe?.timeout_seconds ?? D.timeout_seconds,
      headers: probe?.headers ?? {},
    },
    replica_policy: {
      min_replicas: min,
      max_replicas: policy?.max_replicas ?? min,
      target_qps_per_replica: policy?.target_qps_per_replica ?? null,
      num_overprovision: policy?.num_overprovision ?? D.num_overprovision,
      upscale_delay_seconds: policy?.upscale_delay_seconds ?? D.upscale_delay_seconds,
      downscale_delay_seconds: policy?.downscale_delay_seconds ?? D.downscale_delay_seconds,
      dynamic_ondemand_fallback: policy?.dynamic_ondemand_fallback ?? null,
      base_ondemand_fallback_replicas: policy?.base_ondemand_fallback_replicas ?? null,
      spot_placer: policy?.spot_placer?.toLowerCase() ?? null,
    },
    load_balancing_policy:
      (s.load_balancing_policy?.toLowerCase() as LbPolicy | undefined) ?? D.load_balancing_policy,
    port,
    tls: s.tls ?? null,
  };
}
