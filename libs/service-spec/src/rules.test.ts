import { ResolvedSpec } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { resolveSpec } from "./index.js";

const base = { resources: { ports: 8080 }, run: "python3 server.py", service: { replicas: 1 } };
const resolveDoc = (doc: Record<string, unknown>, name = "svc") =>
  resolveSpec({ yaml: stringify(doc), fileName: `${name}.yaml` });
function pathsOf(doc: Record<string, unknown>): string[] {
  const r = resolveDoc(doc);
  if (r.ok) return [];
  expect(r.error.code).toBe("SY_ERR_SPEC_INVALID");
  return r.error.issues.map((i) => i.path);
}

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
      "service.replica_policy.target_qps_per_replica",
      "service.extra",
      "envs.TOKEN",
    ]),
  );
});

// Service sections as SkyServe's docs write them (skyserve.md §1.1–1.5 sources D-*).
describe("examples from SkyServe's docs", () => {
  it.each([
    {
      name: "auth: Bearer token header (D-auth)",
      doc: {
        envs: { AUTH_TOKEN: null },
        service: {
          readiness_probe: { path: "/v1/models", headers: { Authorization: "Bearer $AUTH_TOKEN" } },
          replicas: 2,
        },
        resources: { ports: 8000, accelerators: "L4:1" },
        run: "vllm serve --api-key $AUTH_TOKEN",
      },
      env: { AUTH_TOKEN: "abc" },
      want: { readiness_probe: { headers: { Authorization: "Bearer abc" } } },
    },
    {
      name: "post_data with $MODEL_NAME (TASK docstring)",
      doc: {
        envs: { MODEL_NAME: "meta-llama/Llama-2-7b-chat-hf" },
        service: {
          readiness_probe: {
            path: "/v1/chat/completions",
            post_data: {
              model: "$MODEL_NAME",
              messages: [{ role: "user", content: "Hello!" }],
              max_tokens: 1,
            },
          },
          replicas: 2,
        },
        resources: { ports: 8080 },
        run: "x",
      },
      env: {},
      want: { readiness_probe: { post_data: { model: "meta-llama/Llama-2-7b-chat-hf", max_tokens: 1 } } },
    },
    {
      name: "autoscaling (D-autoscaling)",
      doc: {
        service: {
          readiness_probe: "/health",
          replica_policy: {
            min_replicas: 2,
            max_replicas: 10,
            target_qps_per_replica: 2.5,
            upscale_delay_seconds: 300,
            downscale_delay_seconds: 1200,
          },
        },
        resources: { ports: 8080 },
        run: "x",
      },
      env: {},
      want: { replica_policy: { min_replicas: 2, max_replicas: 10, target_qps_per_replica: 2.5 } },
    },
    {
      name: "instance-aware autoscaling (POL)",
      doc: {
        service: {
          load_balancing_policy: "instance_aware_least_load",
          replica_policy: {
            min_replicas: 1,
            max_replicas: 5,
            target_qps_per_replica: { "H100:1": 10, A100: 5 },
          },
        },
        resources: { ports: 8080, accelerators: { "H100:1": null, "A100:1": null } },
        run: "x",
      },
      env: {},
      want: {
        load_balancing_policy: "instance_aware_least_load",
        replica_policy: { target_qps_per_replica: { "H100:1": 10, A100: 5 } },
      },
    },
    {
      name: "spot with dynamic on-demand fallback (D-spot-policy)",
      doc: {
        service: {
          readiness_probe: "/health",
          replica_policy: {
            min_replicas: 2,
            max_replicas: 3,
            target_qps_per_replica: 1,
            dynamic_ondemand_fallback: true,
          },
        },
        resources: { ports: 8081, cpus: "2+", use_spot: true },
        run: "x",
      },
      env: {},
      want: { replica_policy: { dynamic_ondemand_fallback: true } },
    },
    {
      name: "HTTPS (D-https)",
      doc: {
        service: { readiness_probe: "/", replicas: 1, tls: { keyfile: "~/key.pem", certfile: "~/cert.pem" } },
        resources: { ports: 8080 },
        run: "python3 -m http.server 8080",
      },
      env: {},
      want: { tls: { keyfile: "~/key.pem", certfile: "~/cert.pem" } },
    },
  ])("$name", ({ doc, env, want }) => {
    const r = resolveSpec({ yaml: stringify(doc), fileName: "doc.yaml", env: env as Record<string, string> });
    if (!r.ok) throw new Error(JSON.stringify(r.error.issues));
    expect(ResolvedSpec.parse(r.spec)).toEqual(r.spec);
    expect(r.spec.service).toMatchObject(want);
  });
});
