import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { call } from "@switchyard/bus";
import { Buckets, type ErrorBody, Subjects, YardError } from "@switchyard/contracts";
import { alive, TestSystem } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aliasBomb } from "../libs/service-spec/test/hostile-yaml.js";

// Issue 8 item 6 against real processes: nats-server, the spec service, the provisioner and
// the `yard` CLI. A hostile spec gets a coded error naming its cause, nothing is stored or
// launched, and the spec service keeps serving.

// yard-endpoints stands in for the prober, which this suite does not need.
const sys = new TestSystem({ holdPorts: [8000], buckets: [Buckets.endpoints] });

const service = (name: string, body: string) => `name: ${name}
run: sleep 600
resources:
  ports: 8000
${body}`;

const HUGE = service("huge", "service:\n  replicas: 1000000\n");
const BOMB = `${service("bomb", "service:\n  replicas: 1\n")}${aliasBomb(9)}`;

/** An apply over NATS as any API client sends it; resolves with the error body it got. */
async function applyError(req: Record<string, unknown>): Promise<ErrorBody> {
  try {
    await call(sys.nc, Subjects.specApply, req);
  } catch (err) {
    if (err instanceof YardError) return err.toBody();
    throw err;
  }
  throw new Error("the apply was accepted");
}

async function storedNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const k of await (await sys.kv(Buckets.specs)).keys()) names.push(k);
  return names.sort();
}

/** The spec service answers a valid apply, and the provisioner launches its one replica. */
async function nextApplyServed(name: string): Promise<void> {
  const ok = await sys.yard(["up", sys.writeYaml(name, service(name, "service:\n  replicas: 1\n"))]);
  expect(ok.code, ok.all).toBe(0);
  expect(ok.stdout).toContain(`Service ${name}: revision 1 published.`);
  await sys.waitReplicas((rs) => rs.some((r) => r.service === name), `a replica of ${name}`);
}

beforeAll(async () => {
  await sys.start("spec", "provisioner");
}, 120_000);
afterAll(async () => {
  await sys.dispose();
});

describe("replicas: 1000000", () => {
  it("yard up --dry-run refuses it, naming service.replicas and the limit", async () => {
    const r = await sys.yard(["up", sys.writeYaml("huge", HUGE), "--dry-run"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error [SY_ERR_SPEC_INVALID]");
    expect(r.stderr).toContain(
      "service.replicas: 1000000 is more than the 64 replicas a service may have (the spec service's YARD_MAX_REPLICAS_PER_SERVICE)",
    );
  });

  it("yard up and the API refuse it: nothing stored, nothing launched", async () => {
    const r = await sys.yard(["up", sys.writeYaml("huge", HUGE)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error [SY_ERR_SPEC_INVALID]");
    expect(r.stderr).toContain("service.replicas: 1000000 is more than the 64 replicas");
    const api = await applyError({ yaml: HUGE });
    expect(api.code).toBe("SY_ERR_SPEC_INVALID");
    expect(api.issues.map((i) => i.path)).toEqual(["service.replicas"]);
    // The provisioner takes specs in order: once the next service's replica exists, a stored
    // huge spec would have had its replicas launched already.
    await nextApplyServed("after-huge");
    expect(await storedNames()).not.toContain("huge");
    const all = await sys.waitReplicas(() => true, "replica records");
    expect(all.filter((r) => r.service === "huge")).toEqual([]);
  });
});

describe("hostile YAML", () => {
  it("an alias bomb is SY_ERR_SPEC_YAML (too many aliases), and the spec service serves the next apply", async () => {
    const t0 = Date.now();
    const r = await sys.yard(["up", sys.writeYaml("bomb", BOMB)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error [SY_ERR_SPEC_YAML]");
    expect(r.stderr).toContain("too many aliases");
    const api = await applyError({ yaml: BOMB });
    expect(api).toMatchObject({ code: "SY_ERR_SPEC_YAML" });
    expect(api.message).toContain("too many aliases");
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(alive(sys.service("spec").child.pid!)).toBe(true);
    await nextApplyServed("after-bomb");
    expect(await storedNames()).not.toContain("bomb");
  });

  it("nesting 200000 deep over the API is SY_ERR_SPEC_YAML (nested too deeply), not a crash", async () => {
    const deep = `${service("deep", "service:\n  replicas: 1\n")}x: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`;
    const api = await applyError({ yaml: deep });
    expect(api.code).toBe("SY_ERR_SPEC_YAML");
    expect(api.message).toContain("nested too deeply");
    const big = await applyError({
      yaml: `${service("big", "service:\n  replicas: 1\n")}# ${"x".repeat(300_000)}\n`,
    });
    expect(big.code).toBe("SY_ERR_SPEC_YAML");
    expect(big.message).toContain("too large");
    expect(alive(sys.service("spec").child.pid!)).toBe(true);
  });

  it("a file that is not UTF-8 is refused with its byte offset before anything is sent", async () => {
    const latin1 = join(sys.stateDir, "latin1.yaml");
    writeFileSync(
      latin1,
      Buffer.concat([Buffer.from("name: caf"), Buffer.from([0xe9]), Buffer.from("\nrun: x\n")]),
    );
    for (const args of [
      ["up", latin1, "--dry-run"],
      ["up", latin1],
    ]) {
      const r = await sys.yard(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("error [SY_ERR_SPEC_YAML]");
      expect(r.stderr).toContain("latin1.yaml: not UTF-8 at byte 9");
    }
    const envFile = join(sys.stateDir, "bad.env");
    writeFileSync(
      envFile,
      Buffer.concat([Buffer.from("A=1\nB="), Buffer.from([0xff, 0xfe]), Buffer.from("\n")]),
    );
    const r = await sys.yard([
      "up",
      sys.writeYaml("ok", service("ok", "service:\n  replicas: 1\n")),
      "--env-file",
      envFile,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("bad.env: not UTF-8 at byte 6");
    expect(await storedNames()).not.toContain("ok");
  });
});

describe("the request and its names", () => {
  it("an apply over max_payload is refused by yard up before sending (SY_ERR_TOO_LARGE)", async () => {
    // Each file within its own limit, together over the 1 MiB a NATS message may have.
    const envFile = join(sys.stateDir, "big.env");
    writeFileSync(envFile, `BIG=${"x".repeat(900_000)}\n`);
    const yaml = sys.writeYaml(
      "bulky",
      `${service("bulky", "service:\n  replicas: 1\n")}# ${"y".repeat(200_000)}\n`,
    );
    const r = await sys.yard(["up", yaml, "--env-file", envFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /error \[SY_ERR_TOO_LARGE\]: the apply request is \d+ bytes; the NATS server takes at most 1048576 bytes/,
    );
    expect(r.stderr).not.toContain("xxxx");
    expect(await storedNames()).not.toContain("bulky");
  });

  it.each([
    { env: { LD_PRELOAD: "/tmp/evil.so" }, path: "env.LD_PRELOAD" },
    { env: { "A;touch /tmp/y": "1" }, path: 'env["A;touch /tmp/y"]' },
  ])("API env name $path is refused as a YAML env name would be", async ({ env, path }) => {
    const api = await applyError({ yaml: service("names", "service:\n  replicas: 1\n"), env });
    expect(api.code).toBe("SY_ERR_SPEC_INVALID");
    expect(api.issues.map((i) => i.path)).toContain(path);
  });

  it("a field accepted but not acted on is a warning in yard up --dry-run, yard up and the spec service's log", async () => {
    const yaml = sys.writeYaml(
      "spotty",
      `name: spotty\nrun: sleep 600\nresources:\n  ports: 8000\n  use_spot: true\n  infra: aws\nservice:\n  replicas: 1\n`,
    );
    const dry = await sys.yard(["up", yaml, "--dry-run"]);
    expect(dry.code, dry.all).toBe(0);
    expect(dry.stderr).toMatch(/warning: `resources\.infra` is accepted but not acted on/);
    expect(dry.stderr).toMatch(/warning: `resources\.use_spot` is accepted but not acted on/);
    const up = await sys.yard(["up", yaml]);
    expect(up.code, up.all).toBe(0);
    expect(up.stderr).toMatch(/warning: `resources\.use_spot` is accepted but not acted on/);
    const line = await sys.service("spec").waitForLine(/"msg":"spec warnings"/);
    expect(JSON.parse(line)).toMatchObject({ level: expect.anything(), service: "spotty" });
    expect(line).toContain("resources.use_spot");
  });
});
