import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Buckets, type ReplicaRecord } from "@switchyard/contracts";
import { groupAlive, groupMembers, type Proc, quietPort, specRecord, TestSystem } from "@switchyard/testkit";
import { stopReplicaGroups } from "@switchyard/up";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The provisioner's local backend and `pnpm start`'s launcher against real processes: every
 * replica process group is recorded where the launcher finds it without the provisioner; a
 * replica's secret values leave the disk once it is gone; and a provisioner that finds a
 * replica gone after an outage (NATS away, or itself dead) records what really happened.
 */
const TOKEN = "tok-5e1d0c2b-at-rest-never";
/** Prints the token (so the log holds it), then the fake engine with its key from the env. */
const RUN = [
  'echo "serving with key $AUTH_TOKEN"',
  'export VLLM_API_KEY="$AUTH_TOKEN"',
  "exec fake-openai-engine --host 127.0.0.1 --port $YARD_REPLICA_PORT",
].join("\n");

const spec = (name: string) =>
  specRecord({
    name,
    replicas: 1,
    port: quietPort(),
    envs: { AUTH_TOKEN: TOKEN },
    secretNames: ["AUTH_TOKEN"],
    run: RUN,
  });

describe("replica groups and secrets at rest", { timeout: 120_000 }, () => {
  const w = new TestSystem({
    buckets: [Buckets.specs, Buckets.endpoints, Buckets.replicas],
    eventsStream: true,
  });
  const dirOf = (r: ReplicaRecord) => join(w.stateDir, "replicas", r.service, String(r.id));
  const groupsDir = () => join(w.stateDir, "replica-groups");
  const records = () => (existsSync(groupsDir()) ? readdirSync(groupsDir()).sort() : []);
  const starting = (service: string, id: number) => (rs: ReplicaRecord[]) =>
    rs.some((r) => r.service === service && r.id === id && r.phase === "STARTING");
  const one = (rs: ReplicaRecord[], service: string, id: number) =>
    rs.find((r) => r.service === service && r.id === id);
  /** A provisioner running replica 1 of a new service `service`, once it is STARTING. */
  const runOne = async (service: string) => {
    const p = await w.startService("provisioner");
    await w.putSpec(spec(service));
    const r = one(await w.waitReplicas(starting(service, 1), `${service}.1 STARTING`), service, 1)!;
    return { p, r };
  };
  /** kill -9 of a provisioner (its replicas, in their own groups, live on). */
  const killHard = async (p: Proc) => {
    process.kill(-p.child.pid!, "SIGKILL");
    await p.exited;
  };
  /** The log lines the provisioner wrote for its recovery steps. */
  const recoverySteps = (lines: string[]) =>
    lines
      .filter((l) => l.includes('"msg":"recovery"'))
      .map((l) => JSON.parse(l) as { step: string; key: string });

  beforeAll(async () => {
    await w.start();
  });
  afterAll(() => w.dispose());

  it("a running replica's group is recorded (pgid → leader start time); once it is gone, the record and secrets.json go and its log is masked", async () => {
    const { p, r } = await runOne("web");
    const stat = readFileSync(`/proc/${r.handle}/stat`, "utf8");
    const startTime = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    expect(records()).toEqual([String(r.handle)]);
    expect(readFileSync(join(groupsDir(), String(r.handle)), "utf8").trim()).toBe(startTime);
    expect(existsSync(join(dirOf(r), "secrets.json"))).toBe(true);
    await expect.poll(() => readFileSync(join(dirOf(r), "replica.log"), "utf8")).toContain(TOKEN);

    await w.del(Buckets.specs, "web");
    await w.waitReplicas((rs) => rs.length === 0, "web.1 removed");
    expect(groupAlive(Number(r.handle))).toBe(false);
    expect(records()).toEqual([]);
    expect(existsSync(join(dirOf(r), "secrets.json"))).toBe(false);
    const log = readFileSync(join(dirOf(r), "replica.log"), "utf8");
    expect(log).toContain("serving with key ***");
    expect(log).not.toContain(TOKEN);
    expect(await p.stop()).toBe(0);
  });

  it("stopped while NATS is away: the next provisioner finishes that stop (record removed, not FAILED) and relaunches", async () => {
    const { p: p1, r } = await runOne("api");
    await w.nats.stop();
    // SIGTERM stops every replica; none of the record writes can land.
    await p1.stop(20_000);
    expect(groupAlive(Number(r.handle))).toBe(false);
    await w.nats.restart();
    const before = await w.waitReplicas((rs) => !!one(rs, "api", 1), "the stale api.1 record");
    expect(one(before, "api", 1)?.phase).toBe("STARTING"); // what the bus still says

    const p2 = await w.startService("provisioner");
    const after = await w.waitReplicas(
      (rs) => !one(rs, "api", 1) && !!one(rs, "api", 2) && starting("api", 2)(rs),
      "api.1 gone, api.2 STARTING",
    );
    expect(after.filter((x) => x.phase === "FAILED")).toEqual([]);
    expect(recoverySteps(p2.lines)).toContainEqual(
      expect.objectContaining({ step: "terminate", key: "api.1" }),
    );
    expect(existsSync(join(dirOf(r), "secrets.json"))).toBe(false);
    expect(readFileSync(join(dirOf(r), "replica.log"), "utf8")).not.toContain(TOKEN);
    await p2.stop();
    await w.del(Buckets.specs, "api");
  });

  it("exited on its own while the provisioner was dead: recorded with the exit status the runner kept", async () => {
    const { p: p1, r } = await runOne("exits");
    await killHard(p1);
    // Kill the engine only: its runner records "run 137" and exits.
    for (const pid of groupMembers(Number(r.handle)))
      if (pid !== Number(r.handle)) process.kill(pid, "SIGKILL");
    await expect.poll(() => groupAlive(Number(r.handle)), { timeout: 15_000 }).toBe(false);

    const p2 = await w.startService("provisioner");
    const rs = await w.waitReplicas((rs) => one(rs, "exits", 1)?.phase === "FAILED", "exits.1 FAILED");
    expect(one(rs, "exits", 1)).toMatchObject({
      reason: "ProcessExited",
      message: "run exited with code 137 (killed by SIGKILL)",
    });
    expect(existsSync(join(dirOf(r), "secrets.json"))).toBe(false);
    await p2.stop();
    await w.del(Buckets.specs, "exits");
  });

  it("the provisioner dies, `pnpm start` stops its replica group: nothing left; the next provisioner records a stop, not a crash", async () => {
    const { p: p1, r } = await runOne("orphan");
    await killHard(p1);
    expect(groupAlive(Number(r.handle))).toBe(true); // a dead provisioner's replica lives on

    expect(await stopReplicaGroups(w.stateDir, 5_000)).toEqual([Number(r.handle)]);
    expect(groupAlive(Number(r.handle))).toBe(false);
    expect(records()).toEqual([`${r.handle}.stopped`]);
    expect(await stopReplicaGroups(w.stateDir, 5_000)).toEqual([]); // nothing twice

    const p2 = await w.startService("provisioner");
    const rs = await w.waitReplicas(
      (rs) => !one(rs, "orphan", 1) && starting("orphan", 2)(rs),
      "orphan.1 gone, orphan.2 STARTING",
    );
    expect(rs.filter((x) => x.phase === "FAILED")).toEqual([]);
    expect(recoverySteps(p2.lines)).toContainEqual(
      expect.objectContaining({ step: "terminate", key: "orphan.1" }),
    );
    expect(existsSync(join(dirOf(r), "secrets.json"))).toBe(false);
    const [r2] = rs.filter((x) => x.service === "orphan");
    expect(records()).toEqual([String(r2.handle)]);
    await p2.stop();
    expect(records()).toEqual([]);
  });

  it("never prints the token in any service's output", () => {
    expect(w.allOutput().join("\n")).not.toContain(TOKEN);
  });
});
