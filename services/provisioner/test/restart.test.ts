import { Buckets } from "@switchyard/contracts";
import { alive, endpointRecord, groupAlive, quietPort, specRecord, TestSystem } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENGINE_RUN, provisionerSystem, TOKEN } from "./suite.js";

const RUNNING = ["STARTING", "READY", "NOT_READY"];

describe("provisioner restarts: never an orphan, never a duplicate", { timeout: 120_000 }, () => {
  const w = provisionerSystem();
  const output: string[] = [];
  const spec = (name: string, replicas: number) =>
    specRecord({
      name,
      replicas,
      port: quietPort(),
      envs: { AUTH_TOKEN: TOKEN },
      secretNames: ["AUTH_TOKEN"],
      run: ENGINE_RUN,
    });
  /** After a restart, a marker change proves the first reconcile pass is done (passes are ordered). */
  const settle = async (service: string, id: number) => {
    await w.putEndpoint(endpointRecord({ service, replica_id: id }));
    return w.waitReplicas(
      (rs) => rs.some((r) => r.service === service && r.id === id && r.phase === "READY"),
      "READY",
    );
  };

  beforeAll(async () => {
    await w.start();
  });
  afterAll(async () => {
    await w.dispose();
  });

  it("kill -9 of the provisioner, then a restart: the same processes are adopted, nothing relaunched", async () => {
    const p1 = await w.startService("provisioner");
    await w.putSpec(spec("web", 2));
    const before = await w.waitReplicas(
      (rs) => rs.filter((r) => r.phase === "STARTING").length === 2,
      "2 STARTING",
    );
    process.kill(-p1.child.pid!, "SIGKILL");
    await p1.exited;
    output.push(...p1.lines);
    for (const r of before) expect(alive(Number(r.handle))).toBe(true); // replicas outlive their provisioner
    const p2 = await w.startService("provisioner");
    await p2.waitForLine(/"step":"adopt"/);
    const after = await settle("web", 1);
    expect(after.map((r) => [r.id, r.handle])).toEqual(before.map((r) => [r.id, r.handle]));
    expect(after.every((r) => RUNNING.includes(r.phase))).toBe(true);
    await p2.stop();
    output.push(...p2.lines);
    // SIGTERM (default): every replica stopped, records removed.
    await w.waitReplicas((rs) => rs.length === 0, "records removed");
    for (const r of before) expect(groupAlive(Number(r.handle))).toBe(false);
  });

  it("SIGTERM: exit 0 after stopping its replicas; a replica that died while it was down is replaced", async () => {
    const p1 = await w.startService("provisioner");
    const before = await w.waitReplicas(
      (rs) => rs.filter((r) => r.phase === "STARTING").length === 2,
      "2 STARTING",
    );
    process.kill(-p1.child.pid!, "SIGKILL");
    await p1.exited;
    output.push(...p1.lines);
    const [dead, live] = before;
    process.kill(-Number(dead.handle), "SIGKILL");
    const p2 = await w.startService("provisioner");
    const rs = await w.waitReplicas(
      (rs) =>
        rs.find((r) => r.id === dead.id)?.phase === "FAILED" &&
        rs.some((r) => r.id > live.id && r.phase === "STARTING"),
      "the dead replica FAILED and a replacement STARTING",
    );
    expect(rs.find((r) => r.id === dead.id)).toMatchObject({
      reason: "ProcessExited",
      message: "the replica's processes were gone when the provisioner started",
    });
    expect(rs.find((r) => r.id === live.id)).toMatchObject({ handle: live.handle });
    const pids = rs.filter((r) => RUNNING.includes(r.phase)).map((r) => Number(r.handle));
    expect(await p2.stop()).toBe(0);
    output.push(...p2.lines);
    for (const pid of pids) expect(groupAlive(pid)).toBe(false);
    const left = await w.waitReplicas(() => true, "records");
    expect(left.map((r) => r.phase)).toEqual(["FAILED"]); // failures stay visible
  });

  it("YARD_KEEP_REPLICAS_ON_EXIT=true: SIGTERM leaves replicas running; a spec deleted meanwhile stops them on restart", async () => {
    const p1 = await w.startService("provisioner", { YARD_KEEP_REPLICAS_ON_EXIT: "true" });
    const before = await w.waitReplicas(
      (rs) => rs.filter((r) => r.phase === "STARTING").length === 2,
      "2 STARTING",
    );
    expect(await p1.stop()).toBe(0);
    output.push(...p1.lines);
    for (const r of before.filter((r) => r.phase === "STARTING"))
      expect(groupAlive(Number(r.handle))).toBe(true);
    await w.del(Buckets.specs, "web");
    const p2 = await w.startService("provisioner");
    await w.waitReplicas((rs) => rs.length === 0, "every record removed");
    for (const r of before) expect(groupAlive(Number(r.handle))).toBe(false);
    expect(await p2.stop()).toBe(0);
    output.push(...p2.lines);
  });

  it("a prober verdict published while the provisioner is down is applied when it is back (durable consumer)", async () => {
    await w.putSpec(spec("api", 1));
    const p1 = await w.startService("provisioner");
    const [r] = await w.waitReplicas(
      (rs) => rs.some((r) => r.service === "api" && r.phase === "STARTING"),
      "api.1",
    );
    process.kill(-p1.child.pid!, "SIGKILL");
    await p1.exited;
    output.push(...p1.lines);
    await w.publish({
      schema: 1,
      type: "replica.failed",
      service: "api",
      replica_id: r.id,
      revision: 1,
      at: new Date().toISOString(),
      phase: "FAILED_PROBING",
      reason: "ProbeFailing",
      message: "not ready for 180 s",
    });
    const p2 = await w.startService("provisioner");
    const rs = await w.waitReplicas(
      (rs) => rs.find((x) => x.id === r.id)?.phase === "FAILED_PROBING" && rs.some((x) => x.id > r.id),
      "api.1 FAILED_PROBING and a replacement",
    );
    expect(rs.find((x) => x.id === r.id)).toMatchObject({
      reason: "ProbeFailing",
      message: "not ready for 180 s",
    });
    await expect.poll(() => groupAlive(Number(r.handle)), { timeout: 15_000 }).toBe(false);
    expect(await p2.stop()).toBe(0);
    output.push(...p2.lines);
  });

  it("never prints the spec's token", () => {
    expect(output.length).toBeGreaterThan(10);
    expect(output.join("\n")).not.toContain(TOKEN);
  });
});

describe("provisioner start-up", { timeout: 60_000 }, () => {
  it("SIGTERM while it waits for the spec service's bucket: exits 0", async () => {
    const bare = new TestSystem(); // no bucket, no stream: nothing but nats-server
    await bare.start();
    try {
      const p = bare.launch("provisioner");
      // Even its lease's bucket, before the one it writes: the spec service creates every stream.
      const line = await p.waitForLine(/waiting for the spec service to create the bucket/);
      expect(JSON.parse(line)).toMatchObject({ bucket: Buckets.leases });
      expect(await p.stop()).toBe(0);
    } finally {
      await bare.dispose();
    }
  });
});
