// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings test ${VAR} substitution
import { readFileSync } from "node:fs";
import { maskSpec, ResolvedSpec } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type ResolveInput, resolveSpec } from "./index.js";

const seed = readFileSync(new URL("../../../examples/vllm-auth.yaml", import.meta.url), "utf8");

function ok(input: ResolveInput) {
  const r = resolveSpec(input);
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${JSON.stringify(r.error.issues)}`);
  expect(ResolvedSpec.parse(r.spec)).toEqual(r.spec);
  return r;
}
function bad(input: ResolveInput) {
  const r = resolveSpec(input);
  if (r.ok) throw new Error("expected an error");
  return r.error;
}

describe("the seed example (examples/vllm-auth.yaml)", () => {
  it("resolves with --env AUTH_TOKEN=t0k --env HF_TOKEN=h; the probe header is masked", () => {
    const { spec } = ok({
      yaml: seed,
      fileName: "examples/vllm-auth.yaml",
      env: { AUTH_TOKEN: "t0k", HF_TOKEN: "h" },
    });
    expect(spec.name).toBe("vllm-auth");
    expect(spec.service.readiness_probe).toEqual({
      path: "/v1/models",
      post_data: null,
      initial_delay_seconds: 1200,
      timeout_seconds: 15,
      headers: { Authorization: "Bearer t0k" },
    });
    expect(spec.service.replica_policy).toMatchObject({ min_replicas: 1, max_replicas: 1 });
    expect(spec.service.port).toBe(8000);
    expect(spec.resources.accelerators.map((a) => `${a.name}:${a.count}`)).toEqual([
      "L4:1",
      "A10G:1",
      "A10:1",
      "A100:1",
      "A100-80GB:1",
    ]);
    expect(spec.envs).toEqual({
      MODEL_NAME: "meta-llama/Llama-2-7b-chat-hf",
      HF_TOKEN: "h",
      AUTH_TOKEN: "t0k",
    });
    expect(spec.secret_names).toEqual(["AUTH_TOKEN", "HF_TOKEN"]);
    const shown = maskSpec(spec);
    expect(shown.service.readiness_probe.headers.Authorization).toBe("Bearer ***");
    expect(shown.envs.AUTH_TOKEN).toBe("***");
    expect(JSON.stringify(shown)).not.toContain("t0k");
  });

  it("without AUTH_TOKEN fails with SY_ERR_ENV_NULL naming AUTH_TOKEN", () => {
    const e = bad({ yaml: seed, fileName: "examples/vllm-auth.yaml", env: { HF_TOKEN: "h" } });
    expect(e.code).toBe("SY_ERR_ENV_NULL");
    expect(e.message).toContain("AUTH_TOKEN");
    expect(e.message).toContain("--env");
    expect(e.issues.map((i) => i.path)).toEqual(["envs.AUTH_TOKEN"]);
  });

  it("returns a deep-frozen spec", () => {
    const { spec } = ok({ yaml: seed, env: { AUTH_TOKEN: "t", HF_TOKEN: "h" }, fileName: "a.yaml" });
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.service.readiness_probe.headers)).toBe(true);
    expect(Object.isFrozen(spec.resources.accelerators[0])).toBe(true);
    expect(() => {
      (spec.envs as Record<string, string>).X = "y";
    }).toThrow();
  });
});

const base = { resources: { ports: 8080 }, run: "python3 server.py" };
const y = (doc: Record<string, unknown>) => stringify(doc);

describe("env merge order and substitution", () => {
  const doc = y({
    ...base,
    envs: { A: "yaml", B: "yaml", C: "yaml", N: 2 },
    service: { readiness_probe: { path: "/$A/$B/$C", headers: { X: "${NOPE} $ALSO_NOPE" } }, replicas: 1 },
  });

  it.each<{ name: string; input: Partial<ResolveInput>; want: string }>([
    { name: "YAML only", input: {}, want: "/yaml/yaml/yaml" },
    { name: "env file over YAML", input: { envFile: { A: "file", B: "file" } }, want: "/file/file/yaml" },
    {
      name: "--env over env file",
      input: { envFile: { A: "file", B: "file" }, env: { A: "cli" } },
      want: "/cli/file/yaml",
    },
    {
      name: "--secret over --env",
      input: { env: { C: "cli" }, secrets: { C: "sec" } },
      want: "/yaml/yaml/sec",
    },
  ])("$name", ({ input, want }) => {
    const { spec } = ok({ yaml: doc, fileName: "s.yaml", ...input });
    expect(spec.service.readiness_probe.path).toBe(want);
  });

  it("leaves unknown names literal and warns naming them", () => {
    const r = ok({ yaml: doc, fileName: "s.yaml" });
    expect(r.spec.service.readiness_probe.headers.X).toBe("${NOPE} $ALSO_NOPE");
    expect(r.warnings.join("\n")).toContain("$NOPE");
    expect(r.warnings.join("\n")).toContain("$ALSO_NOPE");
    expect(r.spec.warnings).toEqual(r.warnings);
  });

  it("substitutes before the schema check: `replicas: $N` fails as a non-integer", () => {
    const e = bad({ yaml: y({ ...base, envs: { N: 3 }, service: { replicas: "$N" } }), fileName: "s.yaml" });
    expect(e.code).toBe("SY_ERR_SPEC_INVALID");
    expect(e.issues.map((i) => i.path)).toEqual(["service.replicas"]);
  });

  it("stringifies env values as written; null is missing", () => {
    const text =
      "envs:\n  V: 3.10\n  I: 7\n  B: true\n  E: ''\nresources: {ports: 8080}\nservice: {replicas: 1}\n";
    expect(ok({ yaml: text, fileName: "s.yaml" }).spec.envs).toEqual({ V: "3.10", I: "7", B: "true", E: "" });
  });

  it("a null secret is SY_ERR_ENV_NULL naming it and --secret", () => {
    const e = bad({
      yaml: y({ ...base, secrets: { API: null }, service: { replicas: 1 } }),
      fileName: "s.yaml",
    });
    expect(e.code).toBe("SY_ERR_ENV_NULL");
    expect(e.message).toContain("'API'");
    expect(e.message).toContain("--secret API=VALUE");
  });
});

describe("secrets", () => {
  const doc = y({
    ...base,
    envs: { MODEL: "m", API_KEY: null, PLAIN: "p" },
    secrets: { DB: null },
    service: {
      readiness_probe: { path: "/", headers: { "X-Key": "$PLAIN" }, post_data: { model: "$MODEL" } },
      replicas: 1,
    },
  });
  const input = {
    yaml: doc,
    fileName: "s.yaml",
    env: { API_KEY: "k3y-value" },
    secrets: { DB: "db-s3cret", CLI: "cli-s3cret" },
  };

  it("tracks secrets:, --secret, credential-looking envs and probe substitutions", () => {
    const { spec } = ok(input);
    expect(spec.secret_names).toEqual(["API_KEY", "CLI", "DB", "MODEL", "PLAIN"]);
    expect(spec.envs).toMatchObject({ DB: "db-s3cret", CLI: "cli-s3cret", API_KEY: "k3y-value", MODEL: "m" });
    const shown = JSON.stringify(maskSpec(spec));
    for (const v of ["db-s3cret", "cli-s3cret", "k3y-value"]) expect(shown).not.toContain(v);
  });

  it.each([
    { name: "unknown LB policy", service: { load_balancing_policy: "$DB", replicas: 1 } },
    { name: "readiness path", service: { readiness_probe: "$DB", replicas: 1 } },
    { name: "post_data JSON", service: { readiness_probe: { path: "/", post_data: "{$DB" }, replicas: 1 } },
    { name: "spot placer", service: { replica_policy: { min_replicas: 1, spot_placer: "x$DB" } } },
    {
      name: "unknown key next to a secret",
      service: { replicas: 1, tls: { keyfile: "$DB", certfile: "c", x: 1 } },
    },
  ])("no error message or warning holds a secret value: $name", ({ service }) => {
    const r = resolveSpec({ ...input, yaml: y({ ...base, secrets: { DB: null }, service }) });
    const text = JSON.stringify(r.ok ? r.warnings : [r.error.message, r.error.issues]);
    expect(r.ok).toBe(false);
    expect(text).not.toContain("db-s3cret");
    expect(text).not.toContain("cli-s3cret");
  });

  it("shows a non-secret value in a message", () => {
    const e = bad({
      yaml: y({ ...base, service: { load_balancing_policy: "fastest" } }),
      fileName: "s.yaml",
    });
    expect(e.issues[0]?.message).toContain("'fastest'");
  });
});
