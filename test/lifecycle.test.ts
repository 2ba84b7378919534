import { readFileSync } from "node:fs";
import { alive, ofService, type Snapshot, startTs, TestSystem } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Issue 3 end to end: spec service, provisioner (local backend, YARD_GPUS=L4:1) and prober as
// real processes, the `yard` CLI, and real fake-engine replicas that demand the bearer token
// like vLLM.

/** The token of the acceptance list; it must appear in no service's output. */
const TOKEN = "s3cret";
/** The prober's interval in this suite (SkyServe probes every 10 s). */
const PROBE_INTERVAL_MS = 500;

const sys = new TestSystem({
  env: {
    provisioner: { YARD_GPUS: "L4:1", YARD_HOST_ADDRESS: "127.0.0.1", YARD_TERMINATE_GRACE_MS: "3000" },
    prober: { YARD_PROBE_INTERVAL_MS: String(PROBE_INTERVAL_MS) },
  },
  holdPorts: [8000], // the examples' port: replicas get free ports of their own
});
const RUNNING = ["STARTING", "READY", "NOT_READY"];

/** Every live replica process group is a replica record's, and each record's group is alive. */
function noOrphanNoDuplicate(s: Snapshot): void {
  const running = s.replicas.filter((r) => RUNNING.includes(r.phase));
  const pids = running.map((r) => Number(r.handle));
  expect(new Set(pids).size).toBe(pids.length);
  expect([...sys.replicaGroups()].sort()).toEqual([...pids].sort());
}

/** n READY replicas of the service, and the endpoints are exactly theirs. */
const readyCount = (service: string, n: number) => (s: Snapshot) => {
  const x = ofService(s, service);
  const ready = x.replicas.filter((r) => r.phase === "READY").map((r) => r.id);
  const eps = x.endpoints.map((e) => e.replica_id);
  return ready.length === n && eps.length === n && eps.every((id) => ready.includes(id));
};

beforeAll(async () => {
  await sys.start("spec", "provisioner", "prober");
}, 120_000);
afterAll(async () => {
  await sys.dispose();
});

describe("replica lifecycle (issue 3)", () => {
  it("yard up examples/local-auth.yaml --env AUTH_TOKEN=s3cret --wait ends READY, probed with the token", async () => {
    const r = await sys.yard(["up", "examples/local-auth.yaml", "--env", `AUTH_TOKEN=${TOKEN}`, "--wait"]);
    expect(r.code, r.all).toBe(0);
    expect(r.all).toMatch(/Service local-auth is READY/);
    const s = await sys.until(readyCount("local-auth", 1), "local-auth READY");
    const [rep] = ofService(s, "local-auth").replicas;
    expect(ofService(s, "local-auth").endpoints[0]).toMatchObject({
      replica_id: rep.id,
      url: rep.url,
      revision: 1,
    });
    // The engine only answers 200 to GET /v1/models with the key; its log shows that answer.
    const logs = await sys.yard(["logs", "local-auth", String(rep.id)]);
    expect(logs.all).toMatch(/fake-openai-engine GET \/v1\/models 200/);
  }, 120_000);

  it("without the probe's headers it never becomes READY: FAILED_INITIAL_DELAY naming the 401", async () => {
    // The initial delay (2 s here) counts from the first failed probe, so the engine must answer
    // within it for the verdict to name the 401: a fake engine still starting (seconds on a loaded
    // machine) is "connection refused", rightly. So the prober is away while the engine starts,
    // and comes back once the engine's log says it listens: its first probe then gets the 401.
    const prober = sys.service("prober");
    expect(await prober.stop()).toBe(0);
    const file = sys.writeYaml("noauth", localAuth({ headers: false, delay: 2 }));
    const up = sys.yard(["up", file, "--env", `AUTH_TOKEN=${TOKEN}`, "--wait"]);
    const starting = await sys.until(
      (s) => ofService(s, "noauth").replicas.some((x) => x.phase === "STARTING"),
      "noauth STARTING",
    );
    const id = String(ofService(starting, "noauth").replicas[0]!.id);
    const follow = startTs("cli/src/main.ts", ["logs", "--follow", "noauth", id], { NATS_URL: sys.nats.url });
    try {
      await follow.waitForLine(/fake-openai-engine listening on/, 60_000);
    } finally {
      await follow.stop();
    }
    expect(follow.lines.filter((l) => l.includes(TOKEN))).toEqual([]);
    await sys.startService("prober");
    const r = await up;
    expect(r.code).not.toBe(0);
    expect(r.all).toMatch(/FAILED_INITIAL_DELAY/);
    expect(r.all).toMatch(/401/);
    const s = await sys.until(
      (s) => ofService(s, "noauth").replicas.some((x) => x.phase === "FAILED_INITIAL_DELAY"),
      "noauth FAILED_INITIAL_DELAY",
    );
    const failed = ofService(s, "noauth").replicas.find((x) => x.phase === "FAILED_INITIAL_DELAY")!;
    expect(failed.reason).toBe("InitialDelayExceeded");
    expect(failed.message).toMatch(/GET \/v1\/models got HTTP 401/);
    expect(ofService(s, "noauth").endpoints).toEqual([]);
    expect((await sys.yard(["down", "noauth"])).code).toBe(0);
    await sys.until((s) => ofService(s, "noauth").replicas.length === 0, "noauth removed");
  }, 120_000);

  it("replicas: 3 → 3 processes on 3 ports, 3 endpoints; kill -9 of one → unready, replaced, 3 ready again", async () => {
    const r = await sys.yard([
      "up",
      sys.writeYaml("trio", localAuth({ replicas: 3 })),
      "--env",
      `AUTH_TOKEN=${TOKEN}`,
    ]);
    expect(r.code, r.all).toBe(0);
    const s = await sys.until(readyCount("trio", 3), "3 trio endpoints");
    const trio = ofService(s, "trio").replicas;
    expect(new Set(trio.map((x) => x.port)).size).toBe(3);
    expect(new Set(trio.map((x) => x.handle)).size).toBe(3);
    for (const x of trio) expect(alive(Number(x.handle))).toBe(true);

    const victim = trio[1]!;
    const killedAt = Date.now();
    process.kill(-Number(victim.handle), "SIGKILL");
    await sys.until(
      (s) => !ofService(s, "trio").endpoints.some((e) => e.replica_id === victim.id),
      "the killed replica's endpoint removed",
    );
    // Unready within two probe intervals, timed by the prober's own log line so the figure is
    // the system's reaction, not this test's watch latency. Whichever comes first ends routing:
    // a failed probe ("replica not ready"), or the provisioner seeing the process exit (the
    // record turns FAILED: "stopped probing replica").
    const prober = sys.service("prober");
    const verdict = await prober.waitForLine(
      new RegExp(
        `"service":"trio","replica":${victim.id},.*"msg":"(replica not ready|stopped probing replica)"`,
      ),
    );
    const reactionMs = Date.parse(JSON.parse(verdict).time) - killedAt;
    console.log(`kill -9 → unready verdict after ${reactionMs} ms (probe interval ${PROBE_INTERVAL_MS} ms)`);
    expect(reactionMs).toBeGreaterThanOrEqual(0); // the verdict on this kill, not an earlier one
    expect(reactionMs).toBeLessThanOrEqual(2 * PROBE_INTERVAL_MS);
    const after = await sys.until(
      (s) =>
        readyCount("trio", 3)(s) && !ofService(s, "trio").endpoints.some((e) => e.replica_id === victim.id),
      "3 trio endpoints again, without the killed one",
    );
    expect(alive(Number(victim.handle))).toBe(false);
    noOrphanNoDuplicate(after);
  }, 180_000);

  it("YARD_GPUS=L4:1, candidates {L4:1, A100:1}, replicas: 2 → one READY on the L4, one PENDING naming the inventory", async () => {
    const file = sys.writeYaml("gpu", localAuth({ replicas: 2, accelerators: "{L4:1, A100:1}" }));
    const r = await sys.yard(["up", file, "--env", `AUTH_TOKEN=${TOKEN}`, "--wait"]);
    expect(r.code, r.all).toBe(0);
    const s = await sys.until(
      (s) => readyCount("gpu", 1)(s) && ofService(s, "gpu").replicas.some((x) => x.phase === "PENDING"),
      "gpu: one READY, one PENDING",
    );
    const g = ofService(s, "gpu");
    expect(g.endpoints[0].accelerator).toBe("L4");
    const pending = g.replicas.find((x) => x.phase === "PENDING")!;
    expect(pending.reason).toBe("NoAcceleratorFree");
    expect(pending.message).toMatch(/L4/);
    expect((await sys.yard(["down", "gpu"])).code).toBe(0);
    await sys.until((s) => ofService(s, "gpu").replicas.length === 0, "gpu removed");
  }, 120_000);

  it.each([
    ["prober", "SIGTERM"],
    ["prober", "SIGKILL"],
    ["provisioner", "SIGKILL"],
    ["provisioner", "SIGTERM"],
  ] as const)(
    "%s %s, an engine killed while it is down, a restart: converges back, no orphan, no duplicate",
    async (who, signal) => {
      const before = ofService(await sys.until(readyCount("trio", 3), "trio ready"), "trio").replicas;
      const p = sys.service(who);
      process.kill(-p.child.pid!, signal);
      const code = await p.exited;
      if (signal === "SIGTERM") expect(code).toBe(0);
      // The world moves on while it is down: one engine dies.
      const victim = before.find((r) => r.phase === "READY")!;
      try {
        process.kill(-Number(victim.handle), "SIGKILL");
      } catch {
        // A provisioner stopped by SIGTERM already stopped its replicas.
      }
      if (who === "prober") {
        // Its snapshot alone tells the new prober that the victim's endpoint must go.
        const ready = await (await sys.startService("prober")).waitForLine(/"msg":"ready"/);
        expect(JSON.parse(ready)).toMatchObject({ removedEndpoints: 1 });
      } else await sys.startService("provisioner");
      const s = await sys.until(
        (s) =>
          readyCount("local-auth", 1)(s) &&
          readyCount("trio", 3)(s) &&
          !ofService(s, "trio").endpoints.some((e) => e.replica_id === victim.id),
        `converged after ${who} ${signal}`,
      );
      noOrphanNoDuplicate(s);
    },
    180_000,
  );

  it("yard down → every replica process gone and its entries removed", async () => {
    const before = await sys.until((s) => s.replicas.length > 0, "replicas");
    const pids = before.replicas.filter((r) => r.handle).map((r) => Number(r.handle));
    const r = await sys.yard(["down", "--all"]);
    expect(r.code, r.all).toBe(0);
    await sys.until((s) => s.replicas.length === 0 && s.endpoints.length === 0, "everything removed");
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(sys.replicaGroups().size).toBe(0);
  }, 120_000);

  it("the token appears in no log line of any service or CLI run", () => {
    const lines = sys.allOutput();
    expect(lines.length).toBeGreaterThan(50);
    expect(lines.filter((l) => l.includes(TOKEN))).toEqual([]);
  });
});

/** local-auth.yaml with changes: another name, replica count, probe, accelerators. */
function localAuth(o: { replicas?: number; headers?: boolean; delay?: number; accelerators?: string }) {
  const text = readFileSync(new URL("../examples/local-auth.yaml", import.meta.url), "utf8");
  let out = text.replace(/replicas: 1/, `replicas: ${o.replicas ?? 1}`);
  if (o.headers === false) out = out.replace(/ {4}headers:\n {6}Authorization: Bearer \$AUTH_TOKEN\n/, "");
  if (o.delay !== undefined)
    out = out.replace(/initial_delay_seconds: 60/, `initial_delay_seconds: ${o.delay}`);
  if (o.accelerators) out = out.replace(/resources:\n/, `resources:\n  accelerators: ${o.accelerators}\n`);
  return out;
}
