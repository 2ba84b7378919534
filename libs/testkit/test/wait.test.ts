import { connectBus, createBucket, type NatsConnection, silentLogger } from "@switchyard/bus";
import { type BucketName, Buckets } from "@switchyard/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNats, type TestNats } from "../src/nats-server.js";
import { waitForKey } from "../src/wait.js";

let nats: TestNats;
let nc: NatsConnection;
beforeAll(async () => {
  nats = await startNats();
  nc = await connectBus({ url: nats.url, name: "wait-test", logger: silentLogger });
});
afterAll(async () => {
  await nc?.close();
  await nats?.dispose();
});

// A fresh bucket per test: each takes the next of Switchyard's (they are all empty here).
const fresh: BucketName[] = Object.values(Buckets);
const bucket = () => createBucket(nc, fresh.shift()!);
type Rec = { ready: boolean };
const allReady = (m: Map<string, Rec>) => m.size > 0 && [...m.values()].every((v) => v.ready);

describe("waitForKey", () => {
  it("asks the predicate only once the snapshot is complete, then on each change", async () => {
    const kv = await bucket();
    // In revision order the snapshot is a.1 (ready) then a.2 (not): a check after a.1 alone
    // would pass on a partial view.
    await kv.put("a.1", JSON.stringify({ ready: true }));
    await kv.put("a.2", JSON.stringify({ ready: false }));
    const seen: string[][] = [];
    let firstCheck!: () => void;
    const checked = new Promise<void>((r) => {
      firstCheck = r;
    });
    let resolved = false;
    const waiting = waitForKey<Rec>(
      kv,
      (m) => {
        seen.push([...m.keys()]);
        firstCheck();
        return allReady(m);
      },
      { timeoutMs: 10_000 },
    ).then((m) => {
      resolved = true;
      return m;
    });
    await checked;
    expect(seen).toEqual([["a.1", "a.2"]]);
    expect(resolved).toBe(false);
    await kv.put("a.2", JSON.stringify({ ready: true }));
    const m = await waiting;
    expect([...m.entries()]).toEqual([
      ["a.1", { ready: true }],
      ["a.2", { ready: true }],
    ]);
  });

  it("with a key filter, completes the snapshot even when the bucket's last write is another key's", async () => {
    const kv = await bucket();
    await kv.put("svc.1", JSON.stringify({ ready: true }));
    await kv.put("other.1", JSON.stringify({ ready: false }));
    const m = await waitForKey<Rec>(kv, allReady, { key: "svc.*", timeoutMs: 5_000 });
    expect([...m.keys()]).toEqual(["svc.1"]);
  });

  it("an absence condition holds on a snapshot whose keys were deleted", async () => {
    const kv = await bucket();
    await kv.put("svc.1", "{}");
    await kv.put("svc.2", "{}");
    await kv.delete("svc.1");
    await kv.delete("svc.2");
    await kv.put("other.1", "{}");
    const m = await waitForKey(kv, (m) => m.size === 0, { key: "svc.*", timeoutMs: 5_000 });
    expect(m.size).toBe(0);
  });

  it("times out naming what it waited for", async () => {
    const kv = await bucket();
    await kv.put("svc.1", "{}");
    await expect(
      waitForKey(kv, (m) => m.size === 0, { key: "svc.*", timeoutMs: 300, what: "svc gone" }),
    ).rejects.toThrow(/svc gone \(snapshot complete\); keys: \["svc\.1"\]/);
  });
});
