// @pure: no I/O (tools/lint-boundaries checks it)
import type { Issue } from "./issues.js";
import type { ServiceView } from "./service-view.js";

const P = "service.replica_policy";

/**
 * Replica counts over the per-service limit. Checked here, at apply, so that a spec asking for
 * a million replicas is refused with its field named instead of stored and launched.
 */
export function replicaLimitIssues(v: ServiceView, max: number): Issue[] {
  const out: Issue[] = [];
  const over = (path: string, n: number | undefined) => {
    if (n !== undefined && n > max)
      out.push({
        path,
        message: `${n} is more than the ${max} replicas a service may have (the spec service's YARD_MAX_REPLICAS_PER_SERVICE)`,
      });
  };
  over("service.replicas", v.replicas);
  over(`${P}.min_replicas`, v.min);
  over(`${P}.max_replicas`, v.max);
  return out;
}
