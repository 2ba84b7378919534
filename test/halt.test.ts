import { type ReplicaRecord, SpecRecord } from "@switchyard/contracts";
import { ofService, type Snapshot, TestSystem } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Issue 9 item 6 end to end: a service whose app fails before it was ever ready is halted as
// SkyServe halts it (no relaunch loop burning a GPU), `yard status` says why with the replica's
// last log lines, and `yard up` with a changed spec launches again. Spec service, provisioner
// and prober as real processes; the CLI as a real process.

/** Passed with --secret: the log tail shows it masked, no output shows it. */
const TOKEN = "tok-halt-5d1f0e9a-never-shown";

const sys = new TestSystem({
  env: { provisioner: { YARD_HOST_ADDRESS: "127.0.0.1" }, prober: { YARD_PROBE_INTERVAL_MS: "300" } },
  holdPorts: [8000], // replicas get free ports of their own
});

beforeAll(async () => {
  await sys.start("spec", "provisioner", "prober");
}, 120_000);
afterAll(async () => {
  await sys.dispose();
});

/** A service YAML; `run` is the replica's script. */
function yaml(run: string, probe = "/health"): string {
  const script = run
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
  return `envs:\n  AUTH_TOKEN:\nresources:\n  ports: 8000\nrun: |\n${script}\nservice:\n  readiness_probe: ${probe}\n  replicas: 1\n`;
}

const BROKEN = [
  'echo "loading weights with token $AUTH_TOKEN"',
  'echo "ValueError: no model at /models/llama-7b" >&2',
  "exit 3",
].join("\n");
const FIXED = 'exec fake-openai-engine --host 127.0.0.1 --port "$YARD_REPLICA_PORT"';

const mine = (s: Snapshot) => ofService(s, "broken").replicas;

describe("a service whose app fails before it was ever ready (SkyServe's unrecoverable failure)", () => {
  let failedAt = 0;
  let failed: ReplicaRecord;

  it("yard up --wait: exit 1 naming the failure; one FAILED replica, the service halted", async () => {
    const file = sys.writeYaml("broken", yaml(BROKEN));
    const up = await sys.yard(["up", file, "-n", "broken", "--secret", `AUTH_TOKEN=${TOKEN}`, "--wait"]);
    expect(up.code, up.all).toBe(1);
    expect(up.all).toMatch(/replica 1: FAILED — ProcessExited: run exited with code 3/);
    const halted = await sys
      .service("provisioner")
      .waitForLine(/"service":"broken","revision":1,"replica":1,.*"msg":"service halted: /);
    failedAt = Date.parse(JSON.parse(halted).time);
    [failed] = mine(await sys.until((s) => mine(s).length === 1, "broken's one record"));
    expect(failed).toMatchObject({
      id: 1,
      phase: "FAILED",
      reason: "ProcessExited",
      message: "run exited with code 3",
      unrecoverable: true,
      first_ready_at: null,
    });
    expect(failed.log_tail).toEqual([
      "loading weights with token ***",
      "ValueError: no model at /models/llama-7b",
    ]);
  }, 60_000);

  it("is not relaunched: another service comes up READY meanwhile, past the backoff, still one record", async () => {
    // The other service's launch and readiness are reconcile passes over every service; each one
    // would have relaunched `broken` once its 1 s backoff was over.
    const good = sys.writeYaml("good", yaml(FIXED));
    const up = await sys.yard(["up", good, "-n", "good", "--env", "AUTH_TOKEN=", "--wait"]);
    expect(up.code, up.all).toBe(0);
    await sys.until((s) => ofService(s, "good").endpoints.length === 1, "good routed");
    // Starting replicas are probed every 100 ms, so `good` may be READY before the backoff is
    // over: let it end (elapsed time is the condition), then take `good` down, one more
    // reconcile pass over every service, and see that `broken` still was not relaunched.
    const left = failedAt + 1_200 - Date.now();
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    expect((await sys.yard(["down", "good"])).code).toBe(0);
    const s = await sys.until((s) => ofService(s, "good").replicas.length === 0, "good gone");
    expect(Date.now() - failedAt).toBeGreaterThan(1_000);
    expect(mine(s)).toHaveLength(1);
    expect(mine(s)[0]).toMatchObject({ id: 1, phase: "FAILED" });
    const launches = sys
      .service("provisioner")
      .lines.filter((l) => /"service":"broken","replica":\d+,"phase":"PROVISIONING"/.test(l));
    expect(launches).toHaveLength(1);
    const halts = sys.service("provisioner").lines.filter((l) => /"msg":"service halted: /.test(l));
    expect(halts).toHaveLength(1); // logged once, not on every pass
  }, 60_000);

  it("yard status: FAILED, the reason, the last log lines with the secret masked; --json has them", async () => {
    const st = await sys.yard(["status", "broken"]);
    expect(st.code, st.all).toBe(0);
    expect(st.stdout).toMatch(/^broken\s+1\s+-\s+FAILED\s+0\/0\s/m);
    expect(st.stdout).toContain(
      "Service broken is halted: replica 1 of revision 1 failed before any replica of that revision " +
        "was ready (ProcessExited: run exited with code 3); nothing new launches until the spec changes (yard up).\n" +
        "Last log lines of replica 1:\n" +
        "  loading weights with token ***\n" +
        "  ValueError: no model at /models/llama-7b",
    );
    const json = JSON.parse((await sys.yard(["status", "broken", "--json"])).stdout);
    expect(json.services[0]).toMatchObject({
      status: "FAILED",
      halted: {
        replica_id: 1,
        revision: 1,
        reason: "ProcessExited",
        log_tail: ["loading weights with token ***", "ValueError: no model at /models/llama-7b"],
      },
    });
  });

  it("yard up with the run fixed: revision 2 launches and becomes READY; the halt is over", async () => {
    const file = sys.writeYaml("broken", yaml(FIXED));
    const up = await sys.yard(["up", file, "-n", "broken", "--secret", `AUTH_TOKEN=${TOKEN}`, "--wait"]);
    expect(up.code, up.all).toBe(0);
    expect(up.all).toMatch(/Service broken is READY/);
    await sys
      .service("provisioner")
      .waitForLine(/"service":"broken","revision":2,"msg":"service no longer halted"/);
    const s = await sys.until(
      (s) => mine(s).length === 1 && mine(s)[0].phase === "READY",
      "broken: only the new replica, READY",
    );
    expect(mine(s)[0]).toMatchObject({ id: 2, revision: 2, unrecoverable: false, log_tail: [] });
    const st = await sys.yard(["status", "broken"]);
    expect(st.stdout).toMatch(/^broken\s+2\s+2\s+READY\s+1\/1\s/m);
    expect(st.stdout).not.toContain("halted");
    SpecRecord.parse(JSON.parse((await sys.yard(["status", "broken", "--json"])).stdout).services[0].record);
  }, 60_000);

  it("the token appears in no output of any service or CLI run", () => {
    expect(sys.allOutput().filter((l) => l.includes(TOKEN))).toEqual([]);
  });
});
