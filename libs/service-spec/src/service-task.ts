// @pure: no I/O (tools/lint-boundaries checks it)
import { type Issue, show } from "./issues.js";
import type { Candidate } from "./resources.js";
import { type ServiceView, usesOndemandFallback } from "./service-view.js";

const LOCATION_KEYS = new Set(["cloud", "region", "zone", "infra"]);

function canonical(fields: Record<string, unknown>): string {
  const keys = Object.keys(fields)
    .filter((k) => !LOCATION_KEYS.has(k))
    .sort();
  return JSON.stringify(keys.map((k) => [k, fields[k]]));
}

function spotIssues(v: ServiceView, cands: readonly Candidate[]): Issue[] {
  const out: Issue[] = [];
  const spot = cands.filter((c) => c.fields.use_spot === true);
  if (spot.length > 0 && spot.length < cands.length) {
    out.push({
      path: spot[0]!.where.use_spot ?? "resources.use_spot",
      message:
        "Resources must either all use spot or none use spot. To use on-demand and spot instances together, use `dynamic_ondemand_fallback` or set base_ondemand_fallback_replicas",
    });
  }
  const allSpot = spot.length === cands.length;
  if (usesOndemandFallback(v) && !allSpot) {
    const key = v.dynamicFallback === true ? "dynamic_ondemand_fallback" : "base_ondemand_fallback_replicas";
    out.push({
      path: `service.replica_policy.${key}`,
      message: "on-demand fallback is only supported for spot resources: set `use_spot: true` in resources",
    });
  }
  if (v.spotPlacer !== undefined) {
    if (!allSpot) {
      out.push({
        path: "service.replica_policy.spot_placer",
        message: "`spot_placer` is only supported for spot resources: set `use_spot: true` in resources",
      });
    }
    const first = cands[0] ? canonical(cands[0].fields) : "";
    const odd = cands.findIndex((c) => canonical(c.fields) !== first);
    if (odd > 0) {
      out.push({
        path: cands[odd]!.path.replace(/\[\d+\]$/, ""),
        message:
          "Different resource configurations are not supported for spot placement. All resources must have the same configuration except for cloud/region/zone",
      });
    }
  }
  return out;
}

function portIssues(v: ServiceView, cands: readonly Candidate[]): { issues: Issue[]; port?: number } {
  const issues: Issue[] = [];
  let port = v.ports;
  for (const c of cands) {
    const at = c.where.ports ?? "resources.ports";
    if (c.fields.ports !== undefined && c.fields.ports !== null && c.ports.length === 0) continue; // unparsable: reported
    if (c.ports.length === 0) {
      issues.push({
        path: at,
        message:
          "Must specify at least one port in resources. Each replica will use the port specified as application ingress port",
      });
    } else if (v.ports !== undefined) {
      if (!c.ports.includes(v.ports)) {
        issues.push({
          path: "service.ports",
          message: `The service port ${v.ports} specified in the service section is not found in some resources (${at})`,
        });
      }
    } else if (c.ports.length > 1) {
      issues.push({
        path: at,
        message:
          "To open multiple ports on the replica, set `service.ports` to the main service port; otherwise give exactly one port in resources",
      });
    } else if (port === undefined) {
      port = c.ports[0];
    } else if (c.ports[0] !== port) {
      issues.push({
        path: at,
        message: `Got multiple ports: ${show(c.ports[0])} and ${show(port)} in different resources. Please specify the same port instead`,
      });
    }
  }
  return { issues, port };
}

/**
 * The task-level rules SkyServe checks for a service (skyserve.md §1.3): job_recovery, spot
 * all-or-nothing, fallback and spot placer need spot, and the replica port. Returns the port.
 */
export function serviceTaskIssues(
  v: ServiceView,
  cands: readonly Candidate[],
): { issues: Issue[]; port?: number } {
  const issues: Issue[] = [];
  for (const c of cands) {
    for (const key of ["job_recovery", "spot_recovery"]) {
      if (c.fields[key] === undefined) continue;
      issues.push({
        path: c.where[key] ?? `resources.${key}`,
        message: `${key} is disabled for services: a preempted or failed replica is replaced by the service itself`,
      });
    }
  }
  issues.push(...spotIssues(v, cands));
  if (v.pool) {
    for (const c of cands) {
      if (c.ports.length > 0)
        issues.push({ path: c.where.ports ?? "resources.ports", message: "Cannot specify ports in a pool" });
    }
    return { issues };
  }
  const ports = portIssues(v, cands);
  return { issues: dedupeIssues([...issues, ...ports.issues]), port: ports.port };
}

function dedupeIssues(list: Issue[]): Issue[] {
  const seen = new Set<string>();
  return list.filter((i) => {
    const k = `${i.path}\n${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
