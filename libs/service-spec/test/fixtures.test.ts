import { ResolvedSpec } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { resolveSpec } from "../src/index.js";
import { fixtureInputs, INVALID_BECAUSE, WARNS_AT } from "./fixture-inputs.js";

const valid = fixtureInputs("valid");
const invalid = fixtureInputs("invalid");

describe("SkyServe's own service YAMLs", () => {
  it("has the whole fixture set", () => {
    expect(valid.length).toBe(33);
    expect(invalid.map((f) => f.file).sort()).toEqual(Object.keys(INVALID_BECAUSE).sort());
  });

  it.each(valid.map((f) => ({ name: f.file, f })))("valid/$name resolves", ({ f }) => {
    const r = resolveSpec({ yaml: f.yaml, fileName: f.file, env: f.env, secrets: f.secrets });
    if (!r.ok) throw new Error(`${r.error.code}: ${JSON.stringify(r.error.issues)}`);
    expect(ResolvedSpec.parse(r.spec)).toEqual(r.spec);
    expect(r.spec.service.port).toBeGreaterThan(0);
    const warnsAt = WARNS_AT[f.file];
    const ruleWarnings = r.warnings.filter((w) => w.startsWith("service.replica_policy"));
    expect(ruleWarnings.map((w) => w.split(":")[0])).toEqual(warnsAt ? [warnsAt] : []);
  });

  it("runs min_replicas for the fixture whose min and max differ without a QPS target", () => {
    const f = valid.find((v) => v.file === "tests__skyserve__spot__base_ondemand_fallback.yaml")!;
    const r = resolveSpec({ yaml: f.yaml, fileName: f.file, env: f.env, secrets: f.secrets });
    const p = r.ok ? r.spec.service.replica_policy : null;
    expect(p && [p.min_replicas, p.max_replicas, p.target_qps_per_replica]).toEqual([2, 3, null]);
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
