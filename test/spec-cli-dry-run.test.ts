import { ResolvedSpec } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fixtureInputs, INVALID_BECAUSE } from "../libs/service-spec/test/fixture-inputs.js";
import { writeYaml, yard, yardInProcess } from "./spec-cli-helpers.js";

const SEED = "examples/vllm-auth.yaml";

describe("yard up --dry-run (needs no NATS)", () => {
  it("resolves the seed example and shows the probe header as Bearer ***", async () => {
    const r = await yard(["up", SEED, "--env", "AUTH_TOKEN=t0k", "--env", "HF_TOKEN=h", "--dry-run"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Authorization: Bearer ***");
    expect(r.all).not.toContain("t0k");
    const spec = ResolvedSpec.parse(parse(r.stdout));
    expect(spec.name).toBe("vllm-auth");
    expect(spec.envs).toMatchObject({ AUTH_TOKEN: "***", HF_TOKEN: "***" });
    // HF_TOKEN=h is masked only as a whole token: the h of ordinary words stays.
    expect(spec.setup).toContain('python -c "import huggingface_hub; huggingface_hub.login(');
    expect(spec.run).toContain("python -m vllm.entrypoints.openai.api_server");
    expect(spec.run).toContain("--tokenizer hf-internal-testing/llama-tokenizer");
    expect(r.stdout).not.toContain("pyt***on");
  });

  it("without --env AUTH_TOKEN exits non-zero naming AUTH_TOKEN", async () => {
    const r = await yard(["up", SEED, "--env", "HF_TOKEN=h", "--dry-run"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/SY_ERR_ENV_NULL/);
    expect(r.stderr).toMatch(/envs\.AUTH_TOKEN: .*AUTH_TOKEN/);
  });

  it("takes a bare --env K from the caller's environment, and refuses one that is not set", async () => {
    const ok = await yard(["up", SEED, "--env", "AUTH_TOKEN", "--env", "HF_TOKEN=h", "--dry-run"], {
      AUTH_TOKEN: "from-shell-7b1e",
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.all).not.toContain("from-shell-7b1e");
    const bad = await yard(["up", SEED, "--env", "AUTH_TOKEN", "--dry-run"], { AUTH_TOKEN: undefined });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("AUTH_TOKEN is not set in your environment");
  });

  it("reads --env-file below --env, and a missing file is an error naming it", async () => {
    const envFile = writeYaml("seed.env", "AUTH_TOKEN=from-file\nHF_TOKEN=h\n");
    const r = await yard(["up", SEED, "--env-file", envFile, "--dry-run"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.all).not.toContain("from-file");
    const missing = await yard(["up", "examples/nope.yaml", "--dry-run"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read service file");
    expect(missing.stderr).toContain("examples/nope.yaml: no such file");
  });

  it("checks a valid and an invalid SkyServe fixture as real processes", async () => {
    const [v] = fixtureInputs("valid").filter((f) => f.file === "examples__serve__minimal.yaml");
    const [bad] = fixtureInputs("invalid");
    const [okRun, badRun] = await Promise.all([
      yard(["up", v!.path, "--dry-run"]),
      yard(["up", bad!.path, "--dry-run"]),
    ]);
    expect(okRun.code, okRun.stderr).toBe(0);
    expect(badRun.code).toBe(1);
    expect(badRun.stderr).toContain(INVALID_BECAUSE[bad!.file]);
  });

  const flags = (env: Record<string, string>, secrets: Record<string, string>) => [
    ...Object.keys(env).flatMap((k) => ["--env", `${k}=${env[k]}`]),
    ...Object.keys(secrets).flatMap((k) => ["--secret", `${k}=${secrets[k]}`]),
  ];

  it.each(fixtureInputs("valid").map((f) => ({ name: f.file, f })))(
    "valid/$name: yard up --dry-run",
    async ({ f }) => {
      const r = await yardInProcess(["up", f.path, "--dry-run", ...flags(f.env, f.secrets)]);
      if ((parse(f.yaml) as { service?: { tls?: unknown } }).service?.tls) {
        // Its cert and key are files of SkyServe's repository, not of this one: yard up reads
        // them (as `sky serve up` does) and names the field it could not read.
        expect(r.code).toBe(2);
        expect(r.stderr).toContain("cannot read service.tls.");
        return;
      }
      expect(r.code, r.stderr).toBe(0);
      expect(ResolvedSpec.safeParse(parse(r.stdout)).success).toBe(true);
    },
  );

  it.each(fixtureInputs("invalid").map((f) => ({ name: f.file, f })))(
    "invalid/$name: rejected",
    async ({ f }) => {
      const r = await yardInProcess(["up", f.path, "--dry-run", ...flags(f.env, f.secrets)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error \[SY_ERR_SPEC_INVALID\]/);
      expect(r.stderr).toContain(`- ${INVALID_BECAUSE[f.file]}:`);
    },
  );

  it("usage errors exit 2 and every command documents its options in --help", async () => {
    expect((await yardInProcess(["down"])).code).toBe(2);
    expect((await yardInProcess(["up"])).code).toBe(2);
    expect((await yardInProcess(["up", SEED, "--timeout", "soon"])).code).toBe(2);
    const helps = await Promise.all(
      ["up", "status", "down", "logs"].map((c) => yardInProcess([c, "--help"])),
    );
    expect(helps.map((h) => h.code)).toEqual([0, 0, 0, 0]);
    const [up, status, down, logs] = helps.map((h) => h.stdout);
    for (const o of [
      "--name",
      "--env <",
      "--env-file",
      "--secret",
      "--dry-run",
      "--wait",
      "--timeout",
      "--nats",
      "NATS_URL",
    ])
      expect(up).toContain(o);
    for (const o of ["--endpoint", "--json", "--nats"]) expect(status).toContain(o);
    expect(down).toContain("--all");
    for (const o of ["--follow", "--tail", "replica_id"]) expect(logs).toContain(o);
  });
});
