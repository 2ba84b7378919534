// @pure: no I/O (tools/lint-boundaries checks it)
import { LB_POLICIES } from "@switchyard/contracts";
import { type Issue, isRecord, keyPath, show } from "./issues.js";
import type { ServiceView } from "./service-view.js";

export const SPOT_PLACERS = ["dynamic_fallback"] as const;

const P = "service.replica_policy";

function enumIssue(value: string, allowed: readonly string[], what: string, path: string): Issue | null {
  if (allowed.includes(value.toLowerCase())) return null;
  return { path, message: `Unknown ${what}: ${show(value)}. Available: ${allowed.join(", ")}` };
}

// The prober writes the path into its request line and the headers into its request: a CR or
// LF (from the YAML or a substituted $VAR) would split them into a second request or header.
const PATH_CTL = /[\u0000-\u0020\u007f]/; // controls and space: percent-encode them
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/; // RFC 9110 token
const VALUE_CTL = /[\u0000-\u0008\u000a-\u001f\u007f]/; // controls but HTAB (RFC 9110 §5.5)

function probeIssues(v: ServiceView): Issue[] {
  const out: Issue[] = [];
  const pathAt = v.probeIsString ? "service.readiness_probe" : "service.readiness_probe.path";
  if (v.path !== undefined && PATH_CTL.test(v.path)) {
    // Not quoted: the path may hold a substituted value.
    out.push({
      path: pathAt,
      message:
        "readiness path must not contain spaces or control characters (CR, LF, ...): percent-encode them",
    });
  } else if (v.path !== undefined && !v.path.startsWith("/")) {
    out.push({
      path: pathAt,
      message: `readiness path must start with a slash (/). Got: ${show(v.path)}`,
    });
  }
  for (const [name, value] of Object.entries(v.headers ?? {})) {
    const at = keyPath("service.readiness_probe.headers", name);
    if (!HEADER_NAME.test(name))
      out.push({ path: at, message: "not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)" });
    else if (typeof value === "string" && VALUE_CTL.test(value))
      out.push({ path: at, message: "header value must not contain control characters (CR, LF, ...)" });
  }
  if (typeof v.postData === "string") {
    try {
      JSON.parse(v.postData);
    } catch {
      // The JSON parser's own message quotes the text, which may hold a substituted secret.
      out.push({
        path: "service.readiness_probe.post_data",
        message:
          "Invalid JSON string for `post_data` in the `readiness_probe` section: write a mapping or valid JSON",
      });
    }
  }
  return out;
}

function replicaIssues(v: ServiceView): Issue[] {
  const out: Issue[] = [];
  if (v.present.has("replicas") && v.hasPolicy) {
    out.push({
      path: "service.replicas",
      message: "Cannot specify both `replicas` and `replica_policy`: use one",
    });
  }
  if (v.present.has("replicas") && v.present.has("workers")) {
    out.push({ path: "service.workers", message: "Cannot specify both `replicas` and `workers`" });
  }
  if (v.present.has("workers") && !v.pool) {
    out.push({
      path: "service.workers",
      message: "`workers` is only for pools (pool: true); use `replicas`",
    });
  }
  if (v.min !== undefined && v.max !== undefined && v.max < v.min) {
    out.push({
      path: `${P}.max_replicas`,
      message: `max_replicas must be greater than or equal to min_replicas. Found: min_replicas=${v.min}, max_replicas=${v.max}`,
    });
  }
  if (v.qps !== undefined && !v.policyPresent.has("max_replicas")) {
    out.push({
      path: `${P}.max_replicas`,
      message: "max_replicas must be set where target_qps_per_replica is set",
    });
  }
  // Without a QPS target there is nothing to autoscale on; SkyServe refuses rather than guess.
  if (v.qps === undefined && v.min !== undefined && v.max !== undefined && v.max !== v.min) {
    out.push({
      path: P,
      message:
        "Detected different min_replicas and max_replicas while target_qps_per_replica is not set. To enable autoscaling, please set target_qps_per_replica",
    });
  }
  return out;
}

function policyIssues(v: ServiceView): Issue[] {
  const out: Issue[] = [];
  const lb = v.lbPolicy?.toLowerCase();
  if (v.lbPolicy !== undefined) {
    const bad = enumIssue(v.lbPolicy, LB_POLICIES, "load balancing policy", "service.load_balancing_policy");
    if (bad) out.push(bad);
  }
  if (v.spotPlacer !== undefined) {
    const bad = enumIssue(v.spotPlacer, SPOT_PLACERS, "spot placer", `${P}.spot_placer`);
    if (bad) out.push(bad);
  }
  if (isRecord(v.qps) && lb !== "instance_aware_least_load") {
    out.push({
      path: `${P}.target_qps_per_replica`,
      message:
        "a per-accelerator target_qps_per_replica requires load_balancing_policy: instance_aware_least_load",
    });
  }
  if (lb === "instance_aware_least_load" && !isRecord(v.qps)) {
    out.push({
      path: "service.load_balancing_policy",
      message: "instance_aware_least_load requires target_qps_per_replica as a mapping of accelerator to QPS",
    });
  }
  return out;
}

// With `pool: true` SkyServe forbids every serving knob (skyserve.md §1.2).
function poolIssues(v: ServiceView): Issue[] {
  if (!v.pool) return [];
  const out: Issue[] = [
    {
      path: "service.pool",
      message:
        "pool mode (a cluster pool for managed jobs) is not a serving feature; Switchyard does not run pools",
    },
  ];
  if (v.present.has("replica_policy") || v.present.has("replicas")) {
    const key = v.present.has("replica_policy") ? "replica_policy" : "replicas";
    out.push({ path: `service.${key}`, message: "Only `workers: <num>` is supported with pool: true" });
  }
  for (const key of ["ports", "load_balancing_policy", "tls"]) {
    if (v.present.has(key))
      out.push({ path: `service.${key}`, message: `\`${key}\` is not allowed with pool: true` });
  }
  for (const key of ["post_data", "headers"]) {
    if (v.probePresent.has(key)) {
      out.push({
        path: `service.readiness_probe.${key}`,
        message: `\`${key}\` is not allowed with pool: true`,
      });
    }
  }
  return out;
}

/** Every cross-field rule of SkyServe's service spec (skyserve.md §1.2) over the lenient view. */
export function crossFieldIssues(v: ServiceView): Issue[] {
  return [...probeIssues(v), ...replicaIssues(v), ...policyIssues(v), ...poolIssues(v)];
}
