import { fixedReplicaPolicy } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { resolveDoc } from "./test-helpers.js";

describe("normalisation", () => {
  it("fills SkyServe's defaults for a minimal service", () => {
    const r = resolveDoc({ run: "x", resources: { ports: 8080 }, service: {} });
    if (!r.ok) throw new Error(JSON.stringify(r.error.issues));
    expect(r.spec.service).toEqual({
      readiness_probe: {
        path: "/",
        post_data: null,
        initial_delay_seconds: 1200,
        timeout_seconds: 15,
        headers: {},
      },
      replica_policy: fixedReplicaPolicy(1),
      load_balancing_policy: "least_load",
      port: 8080,
      tls: null,
    });
    expect(r.spec).toMatchObject({ setup: null, workdir: null, run: "x", ignored_keys: [], warnings: [] });
  });

  it.each([
    {
      name: "replicas: N → min = max = N",
      service: { replicas: 3 },
      want: { replica_policy: { min_replicas: 3, max_replicas: 3 } },
    },
    {
      name: "min only → max = min",
      service: { replica_policy: { min_replicas: 2 } },
      want: { replica_policy: { min_replicas: 2, max_replicas: 2 } },
    },
    {
      name: "string probe → path",
      service: { readiness_probe: "/health" },
      want: { readiness_probe: { path: "/health", initial_delay_seconds: 1200 } },
    },
    {
      name: "post_data JSON string → object",
      service: { readiness_probe: { path: "/", post_data: '{"a": 1}' } },
      want: { readiness_probe: { post_data: { a: 1 } } },
    },
    {
      name: "LB policy lowercased",
      service: { load_balancing_policy: "Round_Robin" },
      want: { load_balancing_policy: "round_robin" },
    },
    {
      name: "spot placer lowercased",
      service: { replica_policy: { min_replicas: 1, spot_placer: "DYNAMIC_FALLBACK" } },
      want: { replica_policy: { spot_placer: "dynamic_fallback" } },
    },
    {
      name: "tls kept",
      service: { tls: { keyfile: "k.pem", certfile: "c.pem" } },
      want: { tls: { keyfile: "k.pem", certfile: "c.pem" } },
    },
  ])("$name", ({ service, want }) => {
    const r = resolveDoc({ run: "x", resources: { ports: 8080, use_spot: true }, service });
    if (!r.ok) throw new Error(JSON.stringify(r.error.issues));
    expect(r.spec.service).toMatchObject(want);
  });
});
