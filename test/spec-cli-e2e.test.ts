import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectBus, type NatsConnection, openBucket, silentLogger } from "@switchyard/bus";
import { Buckets } from "@switchyard/contracts";
import { type Proc, startNats, startTs, type TestNats, waitForKey } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeYaml, yard } from "./spec-cli-helpers.js";

/**
 * The CLI against the real services: spec service, provisioner (local backend), prober, and
 * the fake OpenAI engine (vLLM stand-in) from examples/local-auth.yaml.
 */
describe("yard up --wait / status / logs / down with the real services", () => {
  const TOKEN = "tok-e2e-PLANTED-41d7";
  const stateDir = mkdtempSync(join(tmpdir(), "yard-cli-e2e-"));
  let nats: TestNats;
  let nc: NatsConnection;
  const procs: Proc[] = [];
  const outputs: string[] = [];
  let env: NodeJS.ProcessEnv;
  const cli = async (args: string[]) => {
    const r = await yard(args, env);
    outputs.push(r.all);
    return r;
  };

  beforeAll(async () => {
    nats = await startNats();
    env = { NATS_URL: nats.url, NATS_USER: undefined, NATS_PASS: undefined };
    const start = (entry: string, extra: NodeJS.ProcessEnv) => {
      const p = startTs(entry, [], { ...env, ...extra });
      procs.push(p);
      return p.waitForLine(/"msg":"ready"/, 60_000);
    };
    await Promise.all([
      start("services/spec/src/main.ts", { YARD_SPEC_HTTP_PORT: "0" }),
      start("services/provisioner/src/main.ts", {
        YARD_STATE_DIR: stateDir,
        YARD_GPUS: "",
        YARD_TERMINATE_GRACE_MS: "5000",
      }),
      start("services/prober/src/main.ts", { YARD_PROBE_INTERVAL_MS: "300" }),
    ]);
    nc = await connectBus({ url: nats.url, name: "cli-e2e", logger: silentLogger });
  });
  afterAll(async () => {
    for (const p of procs.reverse()) await p.stop();
    await nc?.close();
    await nats?.dispose();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("up --wait shows the phases and ends READY; status and logs show the replica; down removes it", async () => {
    const up = await cli([
      "up",
      "examples/local-auth.yaml",
      "--env",
      `AUTH_TOKEN=${TOKEN}`,
      "--wait",
      "--timeout",
      "120",
    ]);
    expect(up.code, up.all).toBe(0);
    expect(up.stdout).toMatch(/^\s*\d+s\s+replica 1: STARTING \(http:\/\/127\.0\.0\.1:\d+\)$/m);
    expect(up.stdout).toMatch(/^\s*\d+s\s+replica 1: READY \(http:\/\/127\.0\.0\.1:\d+\)$/m);
    expect(up.stdout).toMatch(/Service local-auth is READY: replica 1 at http:\/\/127\.0\.0\.1:\d+/);

    const status = await cli(["status", "local-auth"]);
    expect(status.stdout).toMatch(
      /^local-auth\s+1\s+1\s+READY\s+1\/1\s+http:\/\/local-auth\.localhost:8080\s+least_load$/m,
    );
    expect(status.stdout).toMatch(/^local-auth\s+1\s+1\s+READY\s+http:\/\/127\.0\.0\.1:\d+\s+-\s+-$/m);

    const logs = await cli(["logs", "local-auth", "1"]);
    expect(logs.code, logs.all).toBe(0);
    expect(logs.stdout).toContain("Starting the fake OpenAI engine");
    expect(logs.stdout).toContain("GET /v1/models 200");

    const replicas = await openBucket(nc, Buckets.replicas, { logger: silentLogger });
    const down = await cli(["down", "local-auth"]);
    expect(down.code, down.all).toBe(0);
    await waitForKey(replicas, (m) => m.size === 0, {
      key: "local-auth.*",
      what: "replicas removed",
      timeoutMs: 60_000,
    });
  });

  it("up --wait of a probe without the token ends non-zero with the replica's reason (HTTP 401)", async () => {
    const noAuth = readFileSync("examples/local-auth.yaml", "utf8")
      .replace(/ {4}headers:\n {6}Authorization: Bearer \$AUTH_TOKEN\n/, "")
      // The delay counts from the first failed probe; it must outlast the engine's start (a
      // Node process, several seconds on a loaded CI machine), or the last failure is
      // "connection refused" rather than the engine's 401 this case is about.
      .replace("initial_delay_seconds: 60", "initial_delay_seconds: 20");
    expect(noAuth).not.toContain("Authorization");
    const r = await cli([
      "up",
      writeYaml("no-auth.yaml", noAuth),
      "--env",
      `AUTH_TOKEN=${TOKEN}`,
      "--wait",
      "--timeout",
      "120",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /error \[FAILED_INITIAL_DELAY\]: replica \d+ of no-auth revision 1 failed: InitialDelayExceeded: .*401/,
    );
    expect((await cli(["down", "no-auth"])).code).toBe(0);
  });

  it("the token is in no line of any service log nor CLI output", () => {
    expect(outputs.length).toBeGreaterThanOrEqual(6);
    const lines = [...procs.flatMap((p) => p.lines), ...outputs];
    expect(lines.filter((l) => l.includes(TOKEN))).toEqual([]);
  });
});
