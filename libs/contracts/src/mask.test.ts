import { describe, expect, it } from "vitest";
import { maskSpec, maskText } from "./mask.js";
import { ResolvedSpec } from "./spec.js";

const spec = ResolvedSpec.parse({
  schema: 1,
  name: "llm",
  envs: { AUTH_TOKEN: "t0k-secret", MODEL_NAME: "m", HF_TOKEN: "hf-abc" },
  secret_names: ["AUTH_TOKEN", "HF_TOKEN"],
  resources: { accelerators: [], ports: [8000], other: {} },
  setup: "login hf-abc",
  run: "serve --api-key t0k-secret",
  workdir: null,
  service: {
    readiness_probe: {
      path: "/v1/models",
      post_data: { key: "t0k-secret" },
      initial_delay_seconds: 1200,
      timeout_seconds: 15,
      headers: { Authorization: "Bearer t0k-secret" },
    },
    replica_policy: {
      min_replicas: 1,
      max_replicas: 1,
      target_qps_per_replica: null,
      num_overprovision: 0,
      upscale_delay_seconds: 300,
      downscale_delay_seconds: 1200,
      dynamic_ondemand_fallback: null,
      base_ondemand_fallback_replicas: null,
      spot_placer: null,
    },
    load_balancing_policy: "least_load",
    port: 8000,
    tls: null,
  },
  ignored_keys: [],
  warnings: [],
});

describe("maskSpec", () => {
  const masked = maskSpec(spec);
  it("masks secret envs and keeps the others", () => {
    expect(masked.envs).toEqual({ AUTH_TOKEN: "***", MODEL_NAME: "m", HF_TOKEN: "***" });
  });
  it("shows the probe header as Bearer ***", () => {
    expect(masked.service.readiness_probe.headers.Authorization).toBe("Bearer ***");
  });
  it("leaves no secret anywhere in the printed spec", () => {
    const text = JSON.stringify(masked);
    expect(text).not.toContain("t0k-secret");
    expect(text).not.toContain("hf-abc");
  });
  it("does not change the original", () => {
    expect(spec.service.readiness_probe.headers.Authorization).toBe("Bearer t0k-secret");
  });
  it("masks overlapping secrets fully (longest first)", () => {
    expect(maskText("a-abc-abcdef", ["abcdef", "abc"])).toBe("a-***-***");
  });
});
