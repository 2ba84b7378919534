// @pure: no I/O (tools/lint-boundaries checks it)
import type { Candidate } from "./resources.js";
import type { ServiceView } from "./service-view.js";

/** `resources` fields Switchyard acts on; every other one is accepted and warned about. */
const USED_RESOURCES = new Set(["accelerators", "ports", "any_of", "ordered"]);
const SPOT_POLICY = ["dynamic_ondemand_fallback", "base_ondemand_fallback_replicas", "spot_placer"];
const AUTOSCALE_POLICY = ["num_overprovision", "upscale_delay_seconds", "downscale_delay_seconds"];
const P = "service.replica_policy";

const list = (paths: readonly string[]) => paths.map((p) => `\`${p}\``).join(", ");

/**
 * One warning per SkyServe field that is accepted but not acted on yet, naming the field, so a
 * user who asks for spot instances, a region or autoscaling learns that they did not get it.
 * Task-level keys (file_mounts, num_nodes, ...) are warned about by the task reader.
 */
export function unusedFieldWarnings(v: ServiceView, candidates: readonly Candidate[]): string[] {
  const out: string[] = [];
  // A base field shows in every candidate under the same path: one warning per field name.
  const byKey = new Map<string, Set<string>>();
  for (const c of candidates) {
    for (const key of Object.keys(c.fields)) {
      if (USED_RESOURCES.has(key)) continue;
      const paths = byKey.get(key) ?? new Set<string>();
      paths.add(c.where[key] ?? `resources.${key}`);
      byKey.set(key, paths);
    }
  }
  for (const [, paths] of [...byKey].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(
      `${list([...paths])} ${paths.size === 1 ? "is" : "are"} accepted but not acted on: the local backend runs replicas as processes on this host (no clouds, regions, spot instances, images or instance types; cpus, memory and disk are not reserved)`,
    );
  }
  const spot = SPOT_POLICY.filter((k) => v.policyPresent.has(k)).map((k) => `${P}.${k}`);
  if (spot.length > 0)
    out.push(
      `${list(spot)} ${spot.length === 1 ? "is" : "are"} not acted on: there are no spot instances to fall back from`,
    );
  // The autoscaler (services/autoscaler) acts on these only with a target QPS, as SkyServe;
  // max_replicas above min_replicas without one is already an error (cross-field.ts).
  const scaling = AUTOSCALE_POLICY.filter((k) => v.policyPresent.has(k)).map((k) => `${P}.${k}`);
  if (scaling.length > 0 && !v.policyPresent.has("target_qps_per_replica"))
    out.push(
      `without \`${P}.target_qps_per_replica\` there is no autoscaling: the service runs at min_replicas (${v.min ?? 0}); ${list(scaling)} ${scaling.length === 1 ? "is" : "are"} not acted on`,
    );
  return out;
}
