import { ResolvedSpec } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { resolveSpec } from "../src/index.js";
import { fixtureInputs, INVALID_BECAUSE } from "./fixture-inputs.js";

const valid = fixtureInputs("valid");
const invalid = fixtureInputs("invalid");

describe("SkyServe's own service YAMLs", () => {
  it("has the whole fixture set", () => {
    expect(valid.length).toBe(32);
    expect(invalid.map((f) => f.file).sort()).toEqual(Object.keys(INVALID_BECAUSE).sort());
  });

  it.each(valid.map((f) => ({ name: f.file, f })))("valid/$name resolves", ({ f }) => {
    const r = resolveSpec({ yaml: f.yaml, fileName: f.file, env: f.env, secrets: f.secrets });
    if (!r.ok) throw new Error(`${r.error.code}: ${JSON.stringify(r.error.issues)}`);
    expect(ResolvedSpec.parse(r.spec)).toEqual(r.spec);
    expect(r.spec.service.port).toBeGreaterThan(0);
  });

  it("refuses min ≠ max without a QPS target with SkyServe's own words", () => {
    const f = invalid.find((v) => v.file === "tests__skyserve__spot__base_ondemand_fallback.yaml")!;
    const r = resolveSpec({ yaml: f.yaml, fileName: f.file, env: f.env, secrets: f.secrets });
    expect(!r.ok && r.error.issues).toEqual([
      {
        path: "service.replica_policy",
        message:
          "Detected different min_replicas and max_replicas while target_qps_per_replica is not set. To enable autoscaling, please set target_qps_per_replica",
      },
    ]);
  });

  it.each(invalid.map((f) => ({ name: f.file, f, path: INVALID_BECAUSE[f.file] })))(
    "invalid/$name is rejected at $path",
    ({ f, path }) => {
      const r = resolveSpec({ yaml: f.yaml, fileName: f.file, env: f.env, secrets: f.secrets });
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe("SY_ERR_SPEC_INVALID");
        expect(r.error.issues.map((i) => i.path)).toContain(path);
      }
    },
  );

  it("reads the set-literal accelerators of llm/vllm/service.yaml as five candidates", () => {
    const f = valid.find((v) => v.file === "llm__vllm__service.yaml")!;
    const r = resolveSpec({ yaml: f.yaml, fileName: f.file, env: f.env });
    expect(r.ok && r.spec.resources.accelerators.map((a) => a.name)).toEqual([
      "L4",
      "A10G",
      "A10",
      "A100",
      "A100-80GB",
    ]);
  });

  it("needs the empty env of llama2.yaml given (HF_TOKEN), and masks it once given", () => {
    const f = valid.find((v) => v.file === "examples__serve__llama2__llama2.yaml")!;
    const without = resolveSpec({ yaml: f.yaml, fileName: f.file });
    expect(!without.ok && without.error.code).toBe("SY_ERR_ENV_NULL");
    const r = resolveSpec({ yaml: f.yaml, fileName: f.file, env: { HF_TOKEN: "hf_abc" } });
    expect(r.ok && r.spec.secret_names).toEqual(["HF_TOKEN"]);
    expect(r.ok && r.spec.envs.MODEL_SIZE).toBe("7");
  });
});
