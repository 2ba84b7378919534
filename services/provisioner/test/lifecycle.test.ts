import { call } from "@switchyard/bus";
import { Buckets, type LogsResult, Subjects, type YardEvent } from "@switchyard/contracts";
import {
  alive,
  endpointRecord,
  freePort,
  groupAlive,
  groupMembers,
  inPhase,
  type Proc,
  specRecord,
} from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENGINE_RUN, provisionerSystem, TOKEN } from "./suite.js";

describe("provisioner: local replicas of the fake engine", { timeout: 120_000 }, () => {
  const w = provisionerSystem();
  let prov: Proc;
  let specPort: number;
  const events: YardEvent[] = [];
  beforeAll(async () => {
    await w.start();
    const sub = w.nc.subscribe("yard.events.llm.>");
    void (async () => {
      for await (const m of sub) events.push(JSON.parse(m.string()));
    })();
    specPort = await freePort();
    prov = await w.startService("provisioner");
  });
  afterAll(() => w.dispose());

  const spec = (o: { replicas: number; revision?: number }) =>
    specRecord({
      name: "llm",
      replicas: o.replicas,
      revision: o.revision,
      port: specPort,
      envs: { AUTH_TOKEN: TOKEN, MODEL_NAME: "m" },
      secretNames: ["AUTH_TOKEN"],
      run: ENGINE_RUN,
    });

  it("replicas: 3 → three engine processes on three ports, STARTING, URLs that answer with the key", async () => {
    await w.putSpec(spec({ replicas: 3 }));
    const rs = await w.waitReplicas((rs) => inPhase(rs, "STARTING").length === 3, "3 STARTING replicas");
    expect(rs.map((r) => r.id)).toEqual([1, 2, 3]);
    const ports = rs.map((r) => r.port);
    expect(new Set(ports).size).toBe(3);
    expect(ports).toContain(specPort); // the spec's port while it was free, free ports after
    expect(new Set(rs.map((r) => r.handle)).size).toBe(3);
    for (const r of rs) {
      expect(r.url).toBe(`http://127.0.0.1:${r.port}`);
      expect(alive(Number(r.handle))).toBe(true);
      // The engine listens once its bin has loaded; the URL is right when it answers.
      await expect
        .poll(
          () =>
            fetch(`${r.url}/health`).then(
              (x) => x.status,
              () => 0,
            ),
          { timeout: 30_000 },
        )
        .toBe(200);
      const models = await fetch(`${r.url}/v1/models`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(models.status).toBe(200);
      expect((await fetch(`${r.url}/v1/models`)).status).toBe(401);
    }
  });

  it("an endpoint appearing (the prober's verdict) marks the replica READY with first_ready_at", async () => {
    await w.putEndpoint(endpointRecord({ service: "llm", replica_id: 1 }));
    const [r1] = await w.waitReplicas((rs) => rs.find((r) => r.id === 1)?.phase === "READY", "llm.1 READY");
    expect(r1.first_ready_at).not.toBeNull();
    await w.del(Buckets.endpoints, "llm.1");
    await w.waitReplicas((rs) => rs.find((r) => r.id === 1)?.phase === "NOT_READY", "llm.1 NOT_READY");
  });

  it("kill -9 of a replica's engine → FAILED record kept with the exit code, a replacement launched", async () => {
    const before = await w.waitReplicas((rs) => rs.length === 3, "3 replicas");
    const victim = before.find((r) => r.id === 2)!;
    const engine = groupMembers(Number(victim.handle)).find((p) => p !== Number(victim.handle))!;
    expect(engine).toBeDefined();
    process.kill(engine, "SIGKILL");
    const rs = await w.waitReplicas(
      (rs) =>
        rs.find((r) => r.id === 2)?.phase === "FAILED" &&
        rs.some((r) => r.id === 4 && r.phase === "STARTING"),
      "llm.2 FAILED and llm.4 STARTING",
    );
    const failed = rs.find((r) => r.id === 2)!;
    expect(failed).toMatchObject({
      reason: "ProcessExited",
      message: "run exited with code 137 (killed by SIGKILL)",
    });
    expect(groupAlive(Number(victim.handle))).toBe(false);
    expect(rs.filter((r) => ["STARTING", "READY", "NOT_READY"].includes(r.phase))).toHaveLength(3);
  });

  it("a replica.failed verdict from the prober is recorded, the replica stopped and replaced", async () => {
    const r3 = (await w.waitReplicas((rs) => rs.length >= 4, "replicas")).find((r) => r.id === 3)!;
    await w.publish({
      schema: 1,
      type: "replica.failed",
      service: "llm",
      replica_id: 3,
      revision: 1,
      at: new Date().toISOString(),
      phase: "FAILED_INITIAL_DELAY",
      reason: "InitialDelayExceeded",
      message: "not ready within initial_delay_seconds 60: last probe HTTP 401",
    });
    const rs = await w.waitReplicas(
      (rs) =>
        rs.find((r) => r.id === 3)?.phase === "FAILED_INITIAL_DELAY" &&
        rs.some((r) => r.id === 5 && r.phase === "STARTING"),
      "llm.3 FAILED_INITIAL_DELAY and llm.5 STARTING",
    );
    expect(rs.find((r) => r.id === 3)!.message).toMatch(/401/);
    await expect.poll(() => groupAlive(Number(r3.handle)), { timeout: 15_000 }).toBe(false);
  });

  it("serves a replica's log over the bus (yard logs)", async () => {
    const res = await call<LogsResult>(w.nc, Subjects.replicaLogs, { service: "llm", replica_id: 1 });
    expect(res.replica_id).toBe(1);
    expect(res.data).toContain("cvd=[] id=1");
    expect(res.data).toContain("fake-openai-engine listening on");
    expect(res.finished).toBe(false);
    const gone = await call<LogsResult>(w.nc, Subjects.replicaLogs, { service: "llm", replica_id: 2 });
    expect(gone.finished).toBe(true);
  });

  it("deleting the spec stops every replica process and removes every record", async () => {
    const rs = await w.waitReplicas((rs) => rs.length > 0, "replicas");
    const pgids = rs.filter((r) => r.handle !== null).map((r) => Number(r.handle));
    const members = pgids.flatMap((g) => groupMembers(g));
    expect(members.length).toBeGreaterThanOrEqual(3);
    await w.del(Buckets.specs, "llm");
    await w.waitReplicas((rs) => rs.length === 0, "no replica records", 60_000);
    for (const g of pgids) expect(groupAlive(g)).toBe(false);
    for (const pid of members) expect(alive(pid)).toBe(false);
  });

  it("published each step as an event: phase changes, launched (with url), terminated (with reason)", async () => {
    const of = (id: number) => events.filter((e) => "replica_id" in e && e.replica_id === id);
    await expect.poll(() => of(1).some((e) => e.type === "replica.terminated")).toBe(true);
    const steps = (id: number) =>
      of(id).map((e) => (e.type === "replica.phase_changed" ? `${e.phase}` : e.type.replace("replica.", "")));
    for (const id of [1, 2, 3]) expect(steps(id).slice(0, 2)).toContain("PROVISIONING");
    expect(steps(1)).toEqual(
      expect.arrayContaining([
        "PROVISIONING",
        "launched",
        "STARTING",
        "READY",
        "NOT_READY",
        "SHUTTING_DOWN",
        "terminated",
      ]),
    );
    expect(of(1).find((e) => e.type === "replica.launched")).toMatchObject({
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    });
    expect(of(1).find((e) => e.type === "replica.terminated")).toMatchObject({ reason: "SpecDeleted" });
    expect(of(2).find((e) => e.type === "replica.phase_changed" && e.phase === "FAILED")).toMatchObject({
      reason: "ProcessExited",
      message: "run exited with code 137 (killed by SIGKILL)",
    });
    expect(JSON.stringify(events)).not.toContain(TOKEN);
  });

  it("never prints the spec's token", () => {
    expect(prov.lines.length).toBeGreaterThan(5);
    expect(prov.lines.join("\n")).not.toContain(TOKEN);
  });
});
