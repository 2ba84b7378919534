import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { aliasBomb } from "../test/hostile-yaml.js";
import { DEFAULT_SPEC_LIMITS, resolveSpec } from "./index.js";
import { base } from "./test-helpers.js";
import { lineColumn, utf8Length } from "./yaml-limits.js";

const BOMB = `name: lol\nrun: x\nresources: {ports: 8080}\nservice: {replicas: 1}\n${aliasBomb(8)}`;
const ok = stringify(base);

function rejected(yaml: string, extra: Parameters<typeof resolveSpec>[0] = { yaml }) {
  const r = resolveSpec({ ...extra, yaml, fileName: "svc.yaml" });
  if (r.ok) throw new Error("expected a rejection");
  return r.error;
}

describe("YAML limits: a coded SY_ERR_SPEC_YAML naming the cause, never SY_ERR_INTERNAL", () => {
  it.each([
    { name: "alias bomb", yaml: BOMB, cause: "too many aliases" },
    {
      name: "flow nesting 100000 deep",
      yaml: `${ok}x: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`,
      cause: "nested too deeply",
    },
    {
      name: "block nesting 70 deep",
      yaml: `${ok}${Array.from({ length: 70 }, (_, i) => `${" ".repeat(i)}k:`).join("\n")} 1\n`,
      cause: "nested too deeply",
    },
    { name: "257 KiB", yaml: `${ok}run: |\n${"  x\n".repeat(66_000)}`, cause: "too large" },
    { name: "U+FFFD from a decoder", yaml: `${ok}# caf\ufffd\n`, cause: "not UTF-8 text" },
    { name: "a lone surrogate", yaml: `${ok}# \ud800x\n`, cause: "lone surrogate" },
  ])("$name → $cause", ({ yaml, cause }) => {
    const t0 = Date.now();
    const e = rejected(yaml);
    expect(e.code).toBe("SY_ERR_SPEC_YAML");
    expect(e.message).toContain(cause);
    expect(e.message).toMatch(/^svc\.yaml: YAML error/);
    // Refused before the work it bounds: well under a second each.
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it("names the byte offset of non-UTF-8 text, counted in UTF-8", () => {
    // "é" is two bytes: the mark sits at byte 3 + 2 = 5 of "a: é\ufffd".
    const e = rejected("a: é\ufffd\n");
    expect(e.issues[0]).toMatchObject({ path: "byte 5" });
    expect(e.message).toContain("at byte 5");
  });

  it("names the line where nesting passes the limit", () => {
    const e = rejected(`a: 1\nb: ${"[".repeat(80)}\n`, { yaml: "", limits: { maxYamlDepth: 10 } });
    expect(e.message).toMatch(/at line 2, column \d+: nested too deeply: more than 10 levels/);
  });

  it.each([
    {
      name: "normal nesting",
      yaml: stringify({ ...base, resources: { ports: 8080, any_of: [{ accelerators: { L4: 1 } }] } }),
    },
    { name: "a few aliases", yaml: `${ok}envs:\n  A: &v hello\n  B: *v\n  C: *v\n` },
    { name: "just under the size limit", yaml: `${ok}setup: |\n${"  x\n".repeat(60_000)}` },
  ])("accepts $name", ({ yaml }) => {
    const r = resolveSpec({ name: "svc", yaml });
    if (!r.ok) throw r.error;
  });

  it("the limits are options", () => {
    expect(rejected(ok, { yaml: "", limits: { maxYamlBytes: 10 } }).message).toContain("too large");
    expect(
      rejected(`${ok}envs:\n  A: &v x\n  B: *v\n`, { yaml: "", limits: { maxYamlAliases: 0 } }).message,
    ).toContain("too many aliases");
  });

  it.each([
    ["", 0],
    ["abc", 3],
    ["é", 2],
    ["€", 3],
    ["😀", 4],
  ])("utf8Length(%j) = %i", (text, n) => {
    expect(utf8Length(text)).toBe(n);
  });

  it("lineColumn", () => {
    expect(lineColumn("ab\ncd\nef", 0)).toEqual({ line: 1, col: 1 });
    expect(lineColumn("ab\ncd\nef", 4)).toEqual({ line: 2, col: 2 });
    expect(lineColumn("ab\ncd\nef", 6)).toEqual({ line: 3, col: 1 });
  });
});

describe("replicas per service", () => {
  const svc = (service: Record<string, unknown>) => stringify({ ...base, service });
  it.each([
    { service: { replicas: 1_000_000 }, path: "service.replicas", n: 1_000_000 },
    { service: { replicas: 65 }, path: "service.replicas", n: 65 },
    {
      service: { replica_policy: { min_replicas: 100 } },
      path: "service.replica_policy.min_replicas",
      n: 100,
    },
    {
      service: { replica_policy: { min_replicas: 1, max_replicas: 500, target_qps_per_replica: 1 } },
      path: "service.replica_policy.max_replicas",
      n: 500,
    },
  ])("$path = $n → SY_ERR_SPEC_INVALID naming the field and the limit", ({ service, path, n }) => {
    const e = rejected(svc(service));
    expect(e.code).toBe("SY_ERR_SPEC_INVALID");
    expect(e.issues).toContainEqual({
      path,
      message: `${n} is more than the 64 replicas a service may have (the spec service's YARD_MAX_REPLICAS_PER_SERVICE)`,
    });
  });

  it("64 is the default and allowed; the limit is an option", () => {
    expect(DEFAULT_SPEC_LIMITS.maxReplicasPerService).toBe(64);
    expect(resolveSpec({ name: "svc", yaml: svc({ replicas: 64 }) }).ok).toBe(true);
    expect(
      resolveSpec({ name: "svc", yaml: svc({ replicas: 64 }), limits: { maxReplicasPerService: 8 } }).ok,
    ).toBe(false);
    expect(
      resolveSpec({ name: "svc", yaml: svc({ replicas: 100 }), limits: { maxReplicasPerService: 100 } }).ok,
    ).toBe(true);
  });
});

describe("env names from every layer follow the YAML rule", () => {
  it.each([
    {
      layer: "env" as const,
      key: "A;touch /tmp/y",
      path: 'env["A;touch /tmp/y"]',
      why: "not a valid env var name",
    },
    { layer: "envFile" as const, key: "1X", path: "env_file.1X", why: "not a valid env var name" },
    { layer: "secrets" as const, key: "A B", path: 'secrets["A B"]', why: "not a valid env var name" },
    { layer: "env" as const, key: "LD_PRELOAD", path: "env.LD_PRELOAD", why: "LD_PRELOAD is refused" },
    { layer: "env" as const, key: "LD_LIBRARY_PATH", path: "env.LD_LIBRARY_PATH", why: "refused" },
    { layer: "envFile" as const, key: "BASH_ENV", path: "env_file.BASH_ENV", why: "refused" },
    {
      layer: "secrets" as const,
      key: "DYLD_INSERT_LIBRARIES",
      path: "secrets.DYLD_INSERT_LIBRARIES",
      why: "refused",
    },
  ])("$layer $key → $path", ({ layer, key, path, why }) => {
    const e = rejected(ok, { yaml: "", [layer]: { [key]: "v" } });
    expect(e.code).toBe("SY_ERR_SPEC_INVALID");
    const issue = e.issues.find((i) => i.path === path);
    expect(issue?.message).toContain(why);
  });

  it.each(["envs", "secrets"])("YAML %s: LD_AUDIT and GLIBC_TUNABLES are refused too", (section) => {
    const e = rejected(
      stringify({ ...base, [section]: { LD_AUDIT: "x", GLIBC_TUNABLES: "y", OK_NAME: "z" } }),
    );
    expect(e.issues.map((i) => i.path)).toEqual([`${section}.LD_AUDIT`, `${section}.GLIBC_TUNABLES`]);
  });

  it("NODE_OPTIONS, PYTHONPATH and names merely containing LD_ stay allowed", () => {
    const r = resolveSpec({
      name: "svc",
      yaml: ok,
      env: { NODE_OPTIONS: "--max-old-space-size=512", PYTHONPATH: "/x", OLD_LD_X: "1" },
    });
    expect(r.ok).toBe(true);
  });
});

describe("readiness probe: no control characters in path or headers", () => {
  const probe = (readiness_probe: unknown, envs?: Record<string, string>) =>
    stringify({ ...base, envs, service: { replicas: 1, readiness_probe } });
  it.each([
    { name: "LF in the path", p: "/health\nX-Evil: 1", path: "service.readiness_probe" },
    { name: "CR in the path (object form)", p: { path: "/a\rb" }, path: "service.readiness_probe.path" },
    { name: "a space in the path", p: { path: "/a b" }, path: "service.readiness_probe.path" },
    {
      name: "CRLF in a header value",
      p: { path: "/", headers: { "X-A": "v\r\nX-B: w" } },
      path: "service.readiness_probe.headers.X-A",
    },
    {
      name: "NUL in a header value",
      p: { path: "/", headers: { "X-A": "v\u0000" } },
      path: "service.readiness_probe.headers.X-A",
    },
    {
      name: "a header name with LF",
      p: { path: "/", headers: { "X\nY": "v" } },
      path: 'service.readiness_probe.headers["X\\nY"]',
    },
    {
      name: "a header name with a colon",
      p: { path: "/", headers: { "X:Y": "v" } },
      path: 'service.readiness_probe.headers["X:Y"]',
    },
  ])("$name → names $path", ({ p, path }) => {
    const e = rejected(probe(p));
    expect(e.code).toBe("SY_ERR_SPEC_INVALID");
    expect(e.issues.map((i) => i.path)).toContain(path);
  });

  it("after $VAR substitution too, without quoting the value", () => {
    const e = rejected(probe({ path: "/", headers: { Authorization: "Bearer $TOKEN" } }), {
      yaml: "",
      secrets: { TOKEN: "abc\r\nX-Injected: 1" },
    });
    expect(e.issues).toContainEqual({
      path: "service.readiness_probe.headers.Authorization",
      message: "header value must not contain control characters (CR, LF, ...)",
    });
    expect(JSON.stringify(e.toBody())).not.toContain("Injected");
  });

  it("a tab in a header value is allowed (RFC 9110)", () => {
    expect(resolveSpec({ name: "svc", yaml: probe({ path: "/h?x=1", headers: { "X-A": "a\tb" } }) }).ok).toBe(
      true,
    );
  });
});

describe("accepted but not acted on: a warning naming the field", () => {
  const warnings = (doc: Record<string, unknown>) => {
    const r = resolveSpec({ name: "svc", yaml: stringify(doc) });
    if (!r.ok) throw r.error;
    return r.warnings;
  };
  it.each([
    { name: "use_spot", resources: { ports: 8080, use_spot: true }, field: "`resources.use_spot`" },
    { name: "infra", resources: { ports: 8080, infra: "aws/us-east-1" }, field: "`resources.infra`" },
    {
      name: "cloud",
      resources: { ports: 8080, cloud: "gcp", region: "us-central1" },
      field: "`resources.cloud`",
    },
    { name: "image_id", resources: { ports: 8080, image_id: "docker:x" }, field: "`resources.image_id`" },
    { name: "disk_size", resources: { ports: 8080, disk_size: 256 }, field: "`resources.disk_size`" },
    {
      name: "instance_type",
      resources: { ports: 8080, instance_type: "p4d" },
      field: "`resources.instance_type`",
    },
    {
      name: "zone in any_of",
      resources: { ports: 8080, any_of: [{ zone: "a" }, { zone: "b" }] },
      field: "`resources.any_of[0].zone`, `resources.any_of[1].zone` are",
    },
  ])("resources: $name", ({ resources, field }) => {
    const w = warnings({ ...base, resources });
    expect(w.find((x) => x.includes(field))).toMatch(/not acted on/);
  });

  it("spot fallback fields", () => {
    const w = warnings({
      ...base,
      resources: { ports: 8080, use_spot: true },
      service: {
        replica_policy: { min_replicas: 1, dynamic_ondemand_fallback: true, spot_placer: "dynamic_fallback" },
      },
    });
    expect(w).toContain(
      "`service.replica_policy.dynamic_ondemand_fallback`, `service.replica_policy.spot_placer` are not acted on: there are no spot instances to fall back from",
    );
  });

  it("autoscaling fields without a target QPS: the service runs at min_replicas", () => {
    const w = warnings({
      ...base,
      service: { replica_policy: { min_replicas: 2, upscale_delay_seconds: 10, downscale_delay_seconds: 5 } },
    });
    expect(w).toContain(
      "without `service.replica_policy.target_qps_per_replica` there is no autoscaling: the service runs at min_replicas (2); `service.replica_policy.upscale_delay_seconds`, `service.replica_policy.downscale_delay_seconds` are not acted on",
    );
  });

  it("none for autoscaling with a target QPS: the autoscaler acts on it", () => {
    const policy = { min_replicas: 0, max_replicas: 5, target_qps_per_replica: 3, upscale_delay_seconds: 10 };
    expect(warnings({ ...base, service: { replica_policy: policy } })).toEqual([]);
  });

  it("none for service.tls: the proxy serves it by SNI", () => {
    const w = warnings({ ...base, service: { replicas: 1, tls: { keyfile: "k.pem", certfile: "c.pem" } } });
    expect(w.join("\n")).not.toContain("tls");
  });

  it("none for a plain spec, nor for min = max", () => {
    expect(warnings(base)).toEqual([]);
    expect(warnings({ ...base, service: { replica_policy: { min_replicas: 2, max_replicas: 2 } } })).toEqual(
      [],
    );
  });
});
