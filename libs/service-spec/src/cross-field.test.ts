import { describe, expect, it } from "vitest";
import { crossFieldIssues } from "./cross-field.js";
import { serviceView } from "./service-view.js";

const issuesOf = (service: Record<string, unknown>) => crossFieldIssues(serviceView(service));
const RP = "service.replica_policy";

describe("cross-field rules of skyserve.md §1.2", () => {
  it.each([
    {
      name: "both replicas and replica_policy",
      service: { replicas: 2, replica_policy: { min_replicas: 1 } },
      path: "service.replicas",
      says: "Cannot specify both `replicas` and `replica_policy`",
    },
    {
      name: "both replicas and workers",
      service: { replicas: 2, workers: 2, pool: true },
      path: "service.workers",
      says: "Cannot specify both `replicas` and `workers`",
    },
    {
      name: "workers without pool",
      service: { workers: 2 },
      path: "service.workers",
      says: "only for pools",
    },
    {
      name: "max_replicas < min_replicas",
      service: { replica_policy: { min_replicas: 3, max_replicas: 2, target_qps_per_replica: 1 } },
      path: `${RP}.max_replicas`,
      says: "max_replicas must be greater than or equal to min_replicas. Found: min_replicas=3, max_replicas=2",
    },
    {
      name: "target_qps_per_replica without max_replicas",
      service: { replica_policy: { min_replicas: 1, target_qps_per_replica: 2 } },
      path: `${RP}.max_replicas`,
      says: "max_replicas must be set where target_qps_per_replica is set",
    },
    {
      name: "min != max without target_qps_per_replica",
      service: { replica_policy: { min_replicas: 1, max_replicas: 3 } },
      path: RP,
      says: "Detected different min_replicas and max_replicas while target_qps_per_replica is not set. To enable autoscaling, please set target_qps_per_replica",
    },
    {
      name: "readiness path without a slash (object form)",
      service: { readiness_probe: { path: "health" } },
      path: "service.readiness_probe.path",
      says: "readiness path must start with a slash (/). Got: ",
    },
    {
      name: "readiness path without a slash (string form)",
      service: { readiness_probe: "health" },
      path: "service.readiness_probe",
      says: "must start with a slash",
    },
    {
      name: "unknown load balancing policy",
      service: { load_balancing_policy: "fastest" },
      path: "service.load_balancing_policy",
      says: "Unknown load balancing policy",
    },
    {
      name: "dict target_qps without instance_aware_least_load",
      service: { replica_policy: { min_replicas: 1, max_replicas: 3, target_qps_per_replica: { A100: 5 } } },
      path: `${RP}.target_qps_per_replica`,
      says: "requires load_balancing_policy: instance_aware_least_load",
    },
    {
      name: "instance_aware_least_load without dict target_qps",
      service: {
        load_balancing_policy: "instance_aware_least_load",
        replica_policy: { min_replicas: 1, max_replicas: 3, target_qps_per_replica: 5 },
      },
      path: "service.load_balancing_policy",
      says: "requires target_qps_per_replica as a mapping",
    },
    {
      name: "post_data string that is not JSON",
      service: { readiness_probe: { path: "/", post_data: "{model: x" } },
      path: "service.readiness_probe.post_data",
      says: "Invalid JSON string for `post_data`",
    },
    {
      name: "unknown spot placer",
      service: { replica_policy: { min_replicas: 1, spot_placer: "cheapest" } },
      path: `${RP}.spot_placer`,
      says: "Unknown spot placer",
    },
    { name: "pool itself", service: { pool: true, workers: 2 }, path: "service.pool", says: "pool mode" },
    {
      name: "pool with replica_policy",
      service: { pool: true, replica_policy: { min_replicas: 1 } },
      path: "service.replica_policy",
      says: "Only `workers: <num>` is supported",
    },
    {
      name: "pool with replicas",
      service: { pool: true, replicas: 1 },
      path: "service.replicas",
      says: "workers",
    },
    { name: "pool with ports", service: { pool: true, ports: 8080 }, path: "service.ports", says: "pool" },
    {
      name: "pool with load_balancing_policy",
      service: { pool: true, load_balancing_policy: "round_robin" },
      path: "service.load_balancing_policy",
      says: "pool",
    },
    {
      name: "pool with tls",
      service: { pool: true, tls: { keyfile: "k", certfile: "c" } },
      path: "service.tls",
      says: "pool",
    },
    {
      name: "pool with probe headers",
      service: { pool: true, readiness_probe: { path: "/", headers: { A: "b" } } },
      path: "service.readiness_probe.headers",
      says: "pool",
    },
    {
      name: "pool with probe post_data",
      service: { pool: true, readiness_probe: { path: "/", post_data: { a: 1 } } },
      path: "service.readiness_probe.post_data",
      says: "pool",
    },
  ])("$name → $path", ({ service, path, says }) => {
    const found = issuesOf(service).filter((i) => i.path === path);
    expect(found.map((i) => i.message).join("\n")).toContain(says);
  });

  it.each([
    { name: "replicas only", service: { replicas: 3 } },
    { name: "min only", service: { replica_policy: { min_replicas: 2 } } },
    { name: "min = max, no qps", service: { replica_policy: { min_replicas: 2, max_replicas: 2 } } },
    {
      name: "autoscaling",
      service: { replica_policy: { min_replicas: 0, max_replicas: 4, target_qps_per_replica: 1 } },
    },
    { name: "LB policy in capitals", service: { load_balancing_policy: "ROUND_ROBIN" } },
    {
      name: "instance-aware pair",
      service: {
        load_balancing_policy: "instance_aware_least_load",
        replica_policy: { min_replicas: 1, max_replicas: 4, target_qps_per_replica: { A100: 5, "L4:1": 1 } },
      },
    },
    {
      name: "post_data JSON string",
      service: { readiness_probe: { path: "/", post_data: '{"model": "m"}' } },
    },
    {
      name: "spot placer any case",
      service: { replica_policy: { min_replicas: 1, spot_placer: "Dynamic_Fallback" } },
    },
  ])("accepts $name", ({ service }) => {
    expect(issuesOf(service)).toEqual([]);
  });

  it("reports every broken rule at once", () => {
    const paths = issuesOf({
      readiness_probe: "health",
      replicas: 1,
      replica_policy: { min_replicas: 3, max_replicas: 2 },
      load_balancing_policy: "nope",
    }).map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "service.readiness_probe",
        "service.replicas",
        `${RP}.max_replicas`,
        RP,
        "service.load_balancing_policy",
      ]),
    );
  });

  it.each([
    { policy: { min_replicas: 2, max_replicas: 2 } },
    { policy: { min_replicas: 1 } },
    { policy: { min_replicas: 1, max_replicas: 3, target_qps_per_replica: 2 } },
  ])("min/max $policy is fine", ({ policy }) => {
    expect(issuesOf({ replica_policy: policy })).toEqual([]);
  });
});
