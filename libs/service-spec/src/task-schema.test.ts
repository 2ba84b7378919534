import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { resolveSpec } from "./index.js";
import { base, pathsOf, resolveDoc } from "./test-helpers.js";

describe("task keys", () => {
  it.each([
    { name: "unknown top-level key", doc: { ...base, sevrice: {} }, path: "sevrice" },
    { name: "top-level pool section", doc: { ...base, pool: { workers: 1 } }, path: "pool" },
    { name: "bad env name", doc: { ...base, envs: { "BAD-NAME": "x" } }, path: "envs.BAD-NAME" },
    { name: "env value a list", doc: { ...base, envs: { A: [1] } }, path: "envs.A" },
    { name: "secrets as a list (managed refs)", doc: { ...base, secrets: ["a"] }, path: "secrets" },
    { name: "setup not a string", doc: { ...base, setup: ["pip install x"] }, path: "setup" },
    { name: "run not a string", doc: { ...base, run: 3 }, path: "run" },
    { name: "git workdir", doc: { ...base, workdir: { url: "https://x/y.git" } }, path: "workdir" },
    { name: "name not a string", doc: { ...base, name: 5 }, path: "name" },
    { name: "missing service section", doc: { resources: { ports: 8080 }, run: "x" }, path: "service" },
    { name: "service not a mapping", doc: { ...base, service: "yes" }, path: "service" },
  ])("$name → $path", ({ doc, path }) => {
    expect(pathsOf(doc)).toContain(path);
  });

  it.each(["file_mounts", "volumes", "num_nodes", "config", "event_callback", "inputs", "outputs"])(
    "accepts SkyPilot's %s, lists it in ignored_keys and warns",
    (key) => {
      const r = resolveDoc({ ...base, [key]: key === "num_nodes" ? 2 : key === "event_callback" ? "x" : {} });
      if (!r.ok) throw new Error(JSON.stringify(r.error.issues));
      expect(r.spec.ignored_keys).toEqual([key]);
      expect(r.warnings.join("\n")).toContain(`\`${key}\` is ignored`);
    },
  );
});

describe("names", () => {
  it.each([
    { name: "-n", input: { name: "cli-name" }, want: "cli-name" },
    { name: "YAML name:", input: {}, doc: { name: "from-yaml" }, want: "from-yaml" },
    { name: "file name", input: { fileName: "dir/My_Svc.yaml" }, want: "my-svc" },
  ])("$name", ({ input, doc, want }) => {
    const r = resolveSpec({ yaml: stringify({ ...base, ...doc }), ...input });
    expect(r.ok && r.spec.name).toBe(want);
  });

  it("an invalid name is an issue at `name` among the others", () => {
    const r = resolveSpec({ yaml: stringify({ ...base, name: "Bad_Name", service: { replicas: "x" } }) });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.issues.map((i) => i.path).sort()).toEqual(["name", "service.replicas"]);
  });
});

it("lists every problem of a broken file, not just the first", () => {
  const r = resolveDoc({
    envs: { TOKEN: null },
    bogus: 1,
    resources: { ports: [8080, 8081], job_recovery: "x" },
    service: {
      readiness_probe: "health",
      replicas: 1,
      replica_policy: { min_replicas: 3, max_replicas: 2 },
      extra: 1,
    },
  });
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error.code).toBe("SY_ERR_SPEC_INVALID");
  expect(r.error.message).toContain("svc.yaml");
  expect(r.error.issues.map((i) => i.path)).toEqual(
    expect.arrayContaining([
      "bogus",
      "resources.ports",
      "resources.job_recovery",
      "service.readiness_probe",
      "service.replicas",
      "service.replica_policy.max_replicas",
      "service.replica_policy",
      "service.extra",
      "envs.TOKEN",
    ]),
  );
});
