import {
  connectBus,
  createYardStreams,
  type KV,
  type NatsConnection,
  putJson,
  silentLogger,
} from "@switchyard/bus";
import { Buckets } from "@switchyard/contracts";
import { type Proc, replicaRecord, specRecord, startNats, startTs, type TestNats } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForState } from "./wait.js";

// The prober as a real process (tsx main.ts), probing real fake-engine processes with a token.
const TOKEN = "sk-proc-test-77c1e0b5";
let nats: TestNats;
let nc: NatsConnection;
let replicas: KV;
let endpoints: KV;
const procs: Proc[] = [];

function startProber(): Proc {
  const p = startTs("services/prober/src/main.ts", [], {
    NATS_URL: nats.url,
    YARD_PROBE_INTERVAL_MS: "300",
    LOG_LEVEL: "debug",
  });
  procs.push(p);
  return p;
}

async function startEngine(): Promise<{ proc: Proc; url: string }> {
  const proc = startTs("tools/fake-engine/src/main.ts", [
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--api-key",
    TOKEN,
  ]);
  procs.push(proc);
  const line = await proc.waitForLine(/listening on http:\/\/127\.0\.0\.1:\d+/);
  return { proc, url: /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1] };
}

const has =
  (...keys: string[]) =>
  (m: Map<string, unknown>) =>
    keys.every((k) => m.has(k));
const lacks =
  (...keys: string[]) =>
  (m: Map<string, unknown>) =>
    keys.every((k) => !m.has(k));

beforeAll(async () => {
  nats = await startNats();
  nc = await connectBus({ url: nats.url, name: "prober-proc-test", logger: silentLogger });
  // The streams, as the spec service creates them (the prober only binds).
  const kvs = await createYardStreams(nc);
  const specs = kvs[Buckets.specs];
  [replicas, endpoints] = [kvs[Buckets.replicas], kvs[Buckets.endpoints]];
  await putJson(
    specs,
    "proc",
    specRecord({ name: "proc", probe: { headers: { Authorization: `Bearer ${TOKEN}` } } }),
  );
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop(2_000)));
  await nc?.close();
  await nats?.dispose();
});

describe("prober process", () => {
  let e1: { proc: Proc; url: string };
  let e2: { proc: Proc; url: string };

  it("probes real engines with their token, drops a kill -9'd one, and exits 0 on SIGTERM", async () => {
    [e1, e2] = await Promise.all([startEngine(), startEngine()]);
    await putJson(replicas, "proc.1", replicaRecord({ service: "proc", id: 1, url: e1.url }));
    await putJson(replicas, "proc.2", replicaRecord({ service: "proc", id: 2, url: e2.url }));
    const p = startProber();
    await p.waitForLine(/"msg":"ready"/);
    await waitForState(endpoints, has("proc.1", "proc.2"), "both endpoints");

    process.kill(-e1.proc.child.pid!, "SIGKILL");
    await waitForState(endpoints, lacks("proc.1"), "proc.1 endpoint deleted");
    expect(await p.stop()).toBe(0);
  });

  it("a restart converges from the snapshot: the endpoint of a replica deleted meanwhile goes", async () => {
    await replicas.delete("proc.2"); // prober down: proc.2's endpoint is now stale
    const p = startProber();
    const ready = await p.waitForLine(/"msg":"ready"/);
    expect(JSON.parse(ready)).toMatchObject({ removedEndpoints: 1 });
    await waitForState(endpoints, lacks("proc.2"), "stale proc.2 endpoint deleted");

    // And it goes on probing: the replica comes back, so does its endpoint.
    await putJson(replicas, "proc.2", replicaRecord({ service: "proc", id: 2, url: e2.url }));
    await waitForState(endpoints, has("proc.2"), "proc.2 endpoint back");
    process.kill(-p.child.pid!, "SIGKILL");
    await p.exited;
  });

  it("after kill -9 of the prober, the next one converges too", async () => {
    await replicas.delete("proc.2");
    const p = startProber();
    await p.waitForLine(/"msg":"ready"/);
    const m = await waitForState(endpoints, lacks("proc.2"), "proc.2 endpoint deleted");
    expect(m.size).toBe(0);
    expect(await p.stop()).toBe(0);
  });

  it("started before the spec service, it says which stream it waits for, and exits 0 on SIGTERM meanwhile", async () => {
    const bare = await startNats(); // no stream at all: the spec service creates them
    try {
      const p = startTs("services/prober/src/main.ts", [], { NATS_URL: bare.url });
      procs.push(p);
      const line = await p.waitForLine(/waiting for the spec service to create the bucket/);
      // Its lease first: a prober acts only once it holds it (yard-leases, created by the spec).
      expect(JSON.parse(line)).toMatchObject({ bucket: Buckets.leases });
      expect(await p.stop()).toBe(0);
    } finally {
      await bare.dispose();
    }
  });

  it("no line of any prober or engine output holds the token", () => {
    const lines = procs.flatMap((p) => p.lines);
    expect(lines.filter((l) => /"msg":"probed"/.test(l)).length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.includes(TOKEN))).toEqual([]);
  });
});
