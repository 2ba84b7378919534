import { describe, expect, it } from "vitest";
import { pathsOf, resolveDoc } from "./test-helpers.js";

describe("resources and the service-task rules of skyserve.md §1.3", () => {
  const svc = { replicas: 1 };
  it.each([
    {
      name: "unknown resources key",
      resources: { ports: 8080, gpus: 1 },
      service: svc,
      path: "resources.gpus",
    },
    {
      name: "unknown key in any_of",
      resources: { ports: 8080, any_of: [{ gpus: 1 }] },
      service: svc,
      path: "resources.any_of[0].gpus",
    },
    {
      name: "any_of and ordered",
      resources: { ports: 8080, any_of: [{}], ordered: [{}] },
      service: svc,
      path: "resources.ordered",
    },
    {
      name: "use_spot not a boolean",
      resources: { ports: 8080, use_spot: "yes" },
      service: svc,
      path: "resources.use_spot",
    },
    {
      name: "job_recovery",
      resources: { ports: 8080, job_recovery: "FAILOVER" },
      service: svc,
      path: "resources.job_recovery",
    },
    {
      name: "job_recovery in any_of",
      resources: { ports: 8080, any_of: [{ job_recovery: "x" }] },
      service: svc,
      path: "resources.any_of[0].job_recovery",
    },
    {
      name: "spot not all-or-nothing",
      resources: { ports: 8080, any_of: [{ use_spot: true }, { use_spot: false }] },
      service: svc,
      path: "resources.any_of[0].use_spot",
    },
    {
      name: "dynamic fallback without spot",
      resources: { ports: 8080 },
      service: { replica_policy: { min_replicas: 1, dynamic_ondemand_fallback: true } },
      path: "service.replica_policy.dynamic_ondemand_fallback",
    },
    {
      name: "base fallback without spot",
      resources: { ports: 8080 },
      service: { replica_policy: { min_replicas: 1, base_ondemand_fallback_replicas: 1 } },
      path: "service.replica_policy.base_ondemand_fallback_replicas",
    },
    {
      name: "spot placer without spot",
      resources: { ports: 8080 },
      service: { replica_policy: { min_replicas: 1, spot_placer: "dynamic_fallback" } },
      path: "service.replica_policy.spot_placer",
    },
    {
      name: "spot placer over different candidates",
      resources: {
        ports: 8080,
        use_spot: true,
        any_of: [{ accelerators: "A100:1" }, { accelerators: "T4:1" }],
      },
      service: { replica_policy: { min_replicas: 1, spot_placer: "dynamic_fallback" } },
      path: "resources.any_of",
    },
    { name: "no ports at all", resources: { cpus: 2 }, service: svc, path: "resources.ports" },
    {
      name: "several ports without service.ports",
      resources: { ports: [8080, 8081] },
      service: svc,
      path: "resources.ports",
    },
    {
      name: "a port range without service.ports",
      resources: { ports: "8000-8001" },
      service: svc,
      path: "resources.ports",
    },
    {
      name: "candidates disagree on the port",
      resources: { any_of: [{ ports: 8080 }, { ports: 9090 }] },
      service: svc,
      path: "resources.any_of[1].ports",
    },
    {
      name: "service.ports not in resources",
      resources: { ports: [8080, 8081] },
      service: { replicas: 1, ports: 9000 },
      path: "service.ports",
    },
    {
      name: "service.ports, a candidate without ports",
      resources: { any_of: [{ ports: 8080 }, { cpus: 2 }] },
      service: { replicas: 1, ports: 8080 },
      path: "resources.ports",
    },
    { name: "bad port", resources: { ports: "http" }, service: svc, path: "resources.ports" },
    {
      name: "bad accelerator",
      resources: { ports: 8080, accelerators: "A100:0" },
      service: svc,
      path: "resources.accelerators",
    },
    {
      name: "ports in a pool",
      resources: { ports: 8080 },
      service: { pool: true, workers: 1 },
      path: "resources.ports",
    },
  ])("$name → $path", ({ resources, service, path }) => {
    expect(pathsOf({ run: "x", resources, service })).toContain(path);
  });

  it.each([
    { name: "single port", resources: { ports: 8080 }, service: svc, port: 8080, ports: [8080] },
    { name: "one-item list", resources: { ports: ["8080"] }, service: svc, port: 8080, ports: [8080] },
    {
      name: "service.ports picks one of several",
      resources: { ports: [8080, "9000-9001"] },
      service: { replicas: 1, ports: 9001 },
      port: 9001,
      ports: [8080, 9000, 9001],
    },
    {
      name: "candidates agree",
      resources: {
        any_of: [
          { ports: 8080, cpus: 2 },
          { ports: 8080, cpus: 4 },
        ],
      },
      service: svc,
      port: 8080,
      ports: [8080],
    },
    {
      name: "ports inherited by candidates",
      resources: { ports: 8000, ordered: [{ accelerators: "A100:1" }, { accelerators: "L4:1" }] },
      service: svc,
      port: 8000,
      ports: [8000],
    },
    {
      name: "all spot with fallback",
      resources: { ports: 8080, use_spot: true },
      service: { replica_policy: { min_replicas: 1, dynamic_ondemand_fallback: true } },
      port: 8080,
      ports: [8080],
    },
    {
      name: "spot placer across zones",
      resources: { ports: 8080, use_spot: true, any_of: [{ zone: "a" }, { zone: "b" }] },
      service: { replica_policy: { min_replicas: 1, spot_placer: "dynamic_fallback" } },
      port: 8080,
      ports: [8080],
    },
  ])("accepts $name (port $port)", ({ resources, service, port, ports }) => {
    const r = resolveDoc({ run: "x", resources, service });
    if (!r.ok) throw new Error(JSON.stringify(r.error.issues));
    expect(r.spec.service.port).toBe(port);
    expect(r.spec.resources.ports).toEqual(ports);
  });

  it("collects accelerators over candidates and keeps the other fields", () => {
    const r = resolveDoc({
      run: "x",
      service: svc,
      resources: {
        ports: 8000,
        cpus: "4+",
        any_of: [{ accelerators: "A100:1" }, { accelerators: { L4: 2 } }, { accelerators: "A100:1" }],
      },
    });
    if (!r.ok) throw new Error(JSON.stringify(r.error.issues));
    expect(r.spec.resources.accelerators).toEqual([
      { name: "A100", count: 1 },
      { name: "L4", count: 2 },
    ]);
    expect(r.spec.resources.other).toMatchObject({ cpus: "4+" });
  });
});
