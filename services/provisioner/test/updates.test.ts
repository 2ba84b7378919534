import { call } from "@switchyard/bus";
import { Buckets, type LogsResult, Subjects } from "@switchyard/contracts";
import {
  endpointRecord,
  freePort,
  groupAlive,
  type Proc,
  quietPort,
  scaleRecord,
  specRecord,
  type TestSystem,
} from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENGINE_RUN, provisionerSystem, TOKEN } from "./suite.js";

const ready = (w: TestSystem, service: string, id: number, revision: number) =>
  w.putEndpoint(endpointRecord({ service, replica_id: id, revision }));

describe("provisioner: spec updates and launch failures", { timeout: 120_000 }, () => {
  const w = provisionerSystem([Buckets.scale]); // yard-scale: the suite plays the autoscaler
  let prov: Proc;
  beforeAll(async () => {
    await w.start();
    prov = await w.startService("provisioner");
  });
  afterAll(() => w.dispose());

  const appPort = quietPort();
  const app = (revision: number, o: { replicas: number; version: string }) =>
    specRecord({
      name: "app",
      port: appPort,
      revision,
      replicas: o.replicas,
      envs: { AUTH_TOKEN: TOKEN, VERSION: o.version },
      secretNames: ["AUTH_TOKEN"],
      run: ENGINE_RUN,
    });

  it("rolling update: the old replica serves until the new revision is READY, then it is stopped and removed", async () => {
    await w.putSpec(app(1, { replicas: 1, version: "a" }));
    const [r1] = await w.waitReplicas((rs) => rs[0]?.phase === "STARTING", "app.1 STARTING");
    await ready(w, "app", 1, 1);
    await w.waitReplicas((rs) => rs[0]?.phase === "READY", "app.1 READY");
    await w.putSpec(app(2, { replicas: 1, version: "b" }));
    const mid = await w.waitReplicas(
      (rs) => rs.some((r) => r.id === 2 && r.phase === "STARTING"),
      "app.2 STARTING",
    );
    expect(mid.find((r) => r.id === 1)).toMatchObject({ phase: "READY", revision: 1 });
    expect(mid.find((r) => r.id === 2)).toMatchObject({ revision: 2 });
    await ready(w, "app", 2, 2);
    const after = await w.waitReplicas(
      (rs) => rs.length === 1 && rs[0].phase === "READY",
      "only app.2 READY",
    );
    expect(after[0]).toMatchObject({ id: 2, revision: 2 });
    expect(groupAlive(Number(r1.handle))).toBe(false);
  });

  it("a change of the replica count only (same launch fields) keeps the replica and relabels it", async () => {
    const [r2] = await w.waitReplicas((rs) => rs.length === 1, "app.2");
    await w.putSpec(app(3, { replicas: 2, version: "b" }));
    const rs = await w.waitReplicas(
      (rs) => rs.some((r) => r.id === 3 && r.phase === "STARTING"),
      "app.3 STARTING",
    );
    expect(rs.find((r) => r.id === 2)).toMatchObject({ revision: 3, handle: r2.handle, phase: "READY" });
    expect(rs.find((r) => r.id === 3)).toMatchObject({ revision: 3 });
    await w.del(Buckets.specs, "app");
    await w.waitReplicas((rs) => rs.length === 0, "app's records gone");
  });

  it("setup that fails → FAILED SetupFailed with the exit code", async () => {
    await w.putSpec(
      specRecord({ name: "bad-setup", setup: "echo preparing\nfalse\necho never", run: "sleep 100" }),
    );
    const [r] = await w.waitReplicas((rs) => rs.some((r) => r.phase === "FAILED"), "bad-setup FAILED");
    expect(r).toMatchObject({ reason: "SetupFailed", message: "setup exited with code 1" });
    await w.del(Buckets.specs, "bad-setup");
    await w.waitReplicas((rs) => rs.length === 0, "bad-setup's records gone");
  });

  it("yard down --replica-id: a failed record stays without --purge (conflict), goes with it; unknown ids are not found", async () => {
    await w.putSpec(specRecord({ name: "gone", setup: "false", run: "sleep 100" }));
    const [r] = await w.waitReplicas((rs) => rs.some((r) => r.phase === "FAILED"), "gone FAILED");
    const down = (replica_id: number, purge?: boolean) =>
      call(w.nc, Subjects.replicaDown, { service: "gone", replica_id, ...(purge ? { purge } : {}) });
    await expect(down(r.id)).rejects.toMatchObject({
      code: "SY_ERR_CONFLICT",
      message: expect.stringMatching(
        /is FAILED: its record stays to show the failure; remove it with --purge/,
      ),
    });
    await expect(down(99)).rejects.toMatchObject({ code: "SY_ERR_NOT_FOUND" });
    await expect(down(r.id, true)).resolves.toEqual({ service: "gone", replica_id: r.id, action: "purged" });
    await w.waitReplicas(
      (rs) => !rs.some((x) => x.service === "gone" && x.id === r.id),
      "the failed record purged",
    );
    await w.del(Buckets.specs, "gone");
    await w.waitReplicas((rs) => !rs.some((x) => x.service === "gone"), "gone's records gone");
  });

  it("a run that hard-codes the spec's port: one replica per host; the second fails clearly (PortInUse)", async () => {
    const port = await freePort();
    await w.putSpec(
      specRecord({
        name: "fixed",
        replicas: 2,
        port,
        envs: { AUTH_TOKEN: TOKEN },
        run: `exec fake-openai-engine --host 127.0.0.1 --port ${port} --api-key $AUTH_TOKEN`,
      }),
    );
    const rs = await w.waitReplicas(
      (rs) => rs.some((r) => r.phase === "STARTING") && rs.some((r) => r.phase === "FAILED"),
      "one STARTING, one FAILED",
    );
    expect(rs.find((r) => r.phase === "STARTING")).toMatchObject({ port });
    expect(rs.find((r) => r.phase === "FAILED")).toMatchObject({
      reason: "PortInUse",
      message: `port ${port} is in use on this host (by replica fixed.1) and the run command hard-codes it (--port ${port}): only one such replica fits per host; use --port $YARD_REPLICA_PORT to run several`,
    });
    await w.del(Buckets.specs, "fixed");
    await w.waitReplicas((rs) => rs.length === 0, "fixed's records gone");
  });

  it("yard-scale sets the replica count within min..max; without it, min_replicas", async () => {
    const target = (n: number) =>
      w.put(Buckets.scale, "scaled", scaleRecord({ service: "scaled", target_replicas: n }));
    await target(3);
    await w.putSpec(specRecord({ name: "scaled", replicas: 1, maxReplicas: 3, run: "sleep 1000" }));
    const live = (rs: { phase: string }[]) =>
      rs.filter((r) => ["STARTING", "READY"].includes(r.phase)).length;
    await w.waitReplicas((rs) => live(rs) === 3, "3 replicas");
    await target(9); // clamped to max_replicas 3
    await ready(w, "scaled", 1, 1); // a later change: once it shows, the pass for 9 is done
    const at9 = await w.waitReplicas((rs) => rs[0]?.phase === "READY", "scaled.1 READY");
    expect(at9).toHaveLength(3);
    await target(2);
    await w.waitReplicas((rs) => rs.length === 2 && live(rs) === 2, "scaled down to 2");
    await w.del(Buckets.scale, "scaled");
    await w.waitReplicas((rs) => rs.length === 1 && live(rs) === 1, "back to min_replicas 1");
    await w.del(Buckets.specs, "scaled");
    await w.waitReplicas((rs) => rs.length === 0, "scaled's records gone");
  });

  it("a replica that ignores SIGTERM is killed after YARD_TERMINATE_GRACE_MS", async () => {
    await w.putSpec(specRecord({ name: "stubborn", run: "trap '' TERM\necho trap set\nsleep 1000" }));
    const [r] = await w.waitReplicas((rs) => rs[0]?.phase === "STARTING", "stubborn STARTING");
    const log = () =>
      call<LogsResult>(w.nc, Subjects.replicaLogs, { service: "stubborn", replica_id: r.id }).then(
        (c) => c.data,
      );
    await expect.poll(log).toContain("trap set"); // SIGTERM before the trap would simply work
    await w.del(Buckets.specs, "stubborn");
    await prov.waitForLine(/ignored SIGTERM: sending SIGKILL/);
    await w.waitReplicas((rs) => rs.length === 0, "stubborn's record gone");
    expect(groupAlive(Number(r.handle))).toBe(false);
  });

  it("never prints the spec's token", () => {
    expect(prov.lines.join("\n")).not.toContain(TOKEN);
  });
});
