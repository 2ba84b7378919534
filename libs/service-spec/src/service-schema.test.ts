import { describe, expect, it } from "vitest";
import { base, pathsOf } from "./test-helpers.js";

describe("service schema", () => {
  it.each([
    {
      name: "unknown service key",
      service: { replicas: 1, autoscaling_decision_interval: 5 },
      path: "service.autoscaling_decision_interval",
    },
    {
      name: "unknown policy key",
      service: { replica_policy: { min_replicas: 1, dynamic_on_demand_fallback: true } },
      path: "service.replica_policy.dynamic_on_demand_fallback",
    },
    {
      name: "unknown probe key",
      service: { readiness_probe: { path: "/", interval: 3 } },
      path: "service.readiness_probe.interval",
    },
    {
      name: "probe without path",
      service: { readiness_probe: { initial_delay_seconds: 3 } },
      path: "service.readiness_probe.path",
    },
    { name: "probe a number", service: { readiness_probe: 3 }, path: "service.readiness_probe" },
    {
      name: "negative initial delay",
      service: { readiness_probe: { path: "/", initial_delay_seconds: -1 } },
      path: "service.readiness_probe.initial_delay_seconds",
    },
    {
      name: "zero timeout",
      service: { readiness_probe: { path: "/", timeout_seconds: 0 } },
      path: "service.readiness_probe.timeout_seconds",
    },
    {
      name: "header value a number",
      service: { readiness_probe: { path: "/", headers: { X: 5 } } },
      path: "service.readiness_probe.headers.X",
    },
    { name: "replicas a float", service: { replicas: 1.5 }, path: "service.replicas" },
    { name: "replicas negative", service: { replicas: -1 }, path: "service.replicas" },
    {
      name: "policy without min_replicas",
      service: { replica_policy: { max_replicas: 2 } },
      path: "service.replica_policy.min_replicas",
    },
    {
      name: "qps negative",
      service: { replica_policy: { min_replicas: 1, max_replicas: 2, target_qps_per_replica: -1 } },
      path: "service.replica_policy.target_qps_per_replica",
    },
    {
      name: "qps dict with lowercase key",
      service: {
        load_balancing_policy: "instance_aware_least_load",
        replica_policy: { min_replicas: 1, max_replicas: 2, target_qps_per_replica: { a100: 1 } },
      },
      path: "service.replica_policy.target_qps_per_replica",
    },
    { name: "service port 0", service: { replicas: 1, ports: 0 }, path: "service.ports" },
    { name: "service port too high", service: { replicas: 1, ports: 70000 }, path: "service.ports" },
    {
      name: "tls without certfile",
      service: { replicas: 1, tls: { keyfile: "k" } },
      path: "service.tls.certfile",
    },
    { name: "pool not a boolean", service: { replicas: 1, pool: "yes" }, path: "service.pool" },
  ])("$name → $path", ({ service, path }) => {
    expect(pathsOf({ ...base, service })).toContain(path);
  });
});
