// libs/bus lease.ts and fenced-kv.ts against a real nats-server (here, not in libs/bus: testkit
// depends on bus). The SIGSTOP of a real leader process is test/standby.test.ts.
import {
  campaign,
  connectBus,
  createBucket,
  FencedKv,
  type KV,
  type Lease,
  type NatsConnection,
  NO_FENCE,
  silentLogger,
  WriteConflict,
} from "@switchyard/bus";
import { Buckets, LeaseRecord, leaseKey } from "@switchyard/contracts";
import { startNats, type TestNats } from "@switchyard/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

let nats: TestNats;
const conns: NatsConnection[] = [];
const leases: Lease[] = [];

async function conn(): Promise<NatsConnection> {
  const nc = await connectBus({ url: nats.url, name: "lease-test", logger: silentLogger });
  conns.push(nc);
  return nc;
}

/** A candidate on its own connection, with a promise per term it wins and loses. */
async function candidate(key: string, ttlMs = 600, renewMs = 200, now?: () => number) {
  const kv = await createBucket(await conn(), Buckets.leases);
  const log: string[] = [];
  const waiters: { what: string; resolve: () => void }[] = [];
  const note = (what: string) => {
    log.push(what);
    for (const w of waiters.filter((x) => x.what === what)) w.resolve();
  };
  const lease = campaign(
    { kv, key, ttlMs, renewMs, logger: silentLogger, ...(now ? { now } : {}) },
    { elected: () => note("elected"), lost: (why) => note(`lost: ${why}`) },
  );
  leases.push(lease);
  const next = (what: string) =>
    log.includes(what) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ what, resolve }));
  const nth = (what: string, n: number) =>
    log.filter((x) => x === what).length >= n
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const w = { what, resolve: () => log.filter((x) => x === what).length >= n && resolve() };
          waiters.push(w);
        });
  return { kv, lease, log, elected: () => next("elected"), electedTimes: (n: number) => nth("elected", n) };
}

beforeAll(async () => {
  nats = await startNats();
});
afterEach(async () => {
  for (const l of leases.splice(0)) await l.release();
});
afterAll(async () => {
  for (const nc of conns) await nc.close().catch(() => {});
  await nats?.dispose();
});

describe("campaign", () => {
  it("takes a free lease at once; a second candidate stands by and its fence refuses", async () => {
    const a = await candidate("t1");
    await a.elected();
    expect(a.lease.held()).toBe(true);
    const e = await a.kv.get(leaseKey("t1"));
    expect(LeaseRecord.parse(JSON.parse(e!.string())).holder).toBe(a.lease.holder);

    const b = await candidate("t1");
    // B has read the key and armed its timer once it logs nothing and A keeps renewing: wait
    // for two of A's renewals seen through B's own connection instead of sleeping.
    const w = await b.kv.watch({ key: "t1" });
    let renewals = 0;
    for await (const x of w) if (x.operation === "PUT" && ++renewals >= 3) break;
    expect(b.lease.held()).toBe(false);
    expect(() => b.lease.check()).toThrow(expect.objectContaining({ code: "SY_ERR_NOT_LEADER" }));
    expect(b.log).toEqual([]);
    expect(a.log).toEqual(["elected"]);
  });

  it("a released lease is taken at once by the standby (watch-driven)", async () => {
    const a = await candidate("t2", 60_000, 20_000);
    await a.elected();
    const b = await candidate("t2", 60_000, 20_000);
    await a.lease.release();
    // A TTL of 60 s: only the watched delete can elect B within the test's time.
    await b.elected();
    expect(b.lease.held()).toBe(true);
  });

  it("a leader whose renewals stop loses its lease at its TTL; the standby takes over after it", async () => {
    const a = await candidate("t3");
    await a.elected();
    const b = await candidate("t3");
    // A's connection goes: no renewal can land any more.
    await conns[conns.length - 2].close();
    await b.elected();
    expect(a.log).toContain("lost: not renewed within the lease's TTL");
    expect(a.lease.held()).toBe(false);
    // A stopped acting before B started: A's end is recorded before B's election.
    expect(b.lease.held()).toBe(true);
  });

  it("a lone leader late past its TTL (a stall) steps down and, the key still its own, leads again at once", async () => {
    // Its clock jumps 10 minutes, as across a stall; the TTL is 60 s, so a retake a TTL
    // later could not come within the test's time: only the at-once retake can.
    let skew = 0;
    const a = await candidate("t5", 60_000, 200, () => performance.now() + skew);
    await a.elected();
    skew = 600_000;
    await a.electedTimes(2);
    expect(a.log).toEqual(["elected", "lost: not renewed within the lease's TTL", "elected"]);
    expect(a.lease.held()).toBe(true);
  });

  it("of several standbys racing for a released lease exactly one wins", async () => {
    const a = await candidate("t4", 60_000, 20_000);
    await a.elected();
    const others = await Promise.all([1, 2, 3, 4].map(() => candidate("t4", 60_000, 20_000)));
    await a.lease.release();
    await Promise.race(others.map((o) => o.elected()));
    // Each loser has read the winner's record and armed its timer: the key's latest write is
    // the winner's, and no other candidate holds the lease.
    const winner = others.find((o) => o.lease.held())!;
    const e = await a.kv.get("t4");
    expect(LeaseRecord.parse(JSON.parse(e!.string())).holder).toBe(winner.lease.holder);
    expect(others.filter((o) => o.lease.held())).toHaveLength(1);
  });
});

describe("FencedKv", () => {
  it("refuses a stale writer's late write (the new leader wrote since) and keeps the bucket as the new leader left it", async () => {
    const nc = await conn();
    const scale = await createBucket(nc, Buckets.scale);
    const a = await candidate("t5");
    await a.elected();
    const oldWriter = new FencedKv(scale, a.lease, silentLogger);
    await oldWriter.put("llm", "old-1");

    const b = await candidate("t5");
    await conns[conns.length - 2].close(); // A's lease connection: its renewals stop
    await b.elected();
    const newWriter = new FencedKv(scale, b.lease, silentLogger);
    const e = await scale.get("llm");
    newWriter.seen("llm", e!.revision);
    await newWriter.put("llm", "new-1");

    // A's fence refuses first (its lease ran out)...
    await expect(oldWriter.put("llm", "old-late")).rejects.toMatchObject({ code: "SY_ERR_NOT_LEADER" });
    // ...and a write that passed the fence before the pause, sent only now, is refused by the
    // server: it expects the revision A last wrote.
    const inFlight = new FencedKv(scale, NO_FENCE, silentLogger);
    inFlight.seen("llm", e!.revision);
    await expect(inFlight.put("llm", "old-late")).rejects.toBeInstanceOf(WriteConflict);
    expect((await scale.get("llm"))!.string()).toBe("new-1");
    // The new leader goes on writing.
    await newWriter.put("llm", "new-2");
    expect((await scale.get("llm"))!.string()).toBe("new-2");
  });

  it("one writer's concurrent writes to a key all land, in call order (none refused as a conflict)", async () => {
    const kv = await createBucket(await conn(), Buckets.leases);
    const f = new FencedKv(kv, NO_FENCE, silentLogger);
    const revs = await Promise.all([1, 2, 3, 4, 5].map((n) => f.put("same", `v${n}`)));
    expect(revs).toEqual([...revs].sort((a, b) => a - b));
    expect(new Set(revs).size).toBe(5);
    expect((await kv.get("same"))?.string()).toBe("v5");
  });

  it("a delete expects the revision too", async () => {
    const nc = await conn();
    const kv: KV = await createBucket(nc, Buckets.endpoints);
    const w = new FencedKv(kv, NO_FENCE, silentLogger);
    await w.put("x.1", "a");
    const other = new FencedKv(kv, NO_FENCE, silentLogger);
    other.seen("x.1", (await kv.get("x.1"))!.revision);
    await other.put("x.1", "b");
    await expect(w.delete("x.1")).rejects.toBeInstanceOf(WriteConflict);
    expect((await kv.get("x.1"))!.string()).toBe("b");
    // It now knows the latest revision: deciding again from it, the delete lands.
    await w.delete("x.1");
    expect((await kv.get("x.1"))!.operation).toBe("DEL");
  });
});
