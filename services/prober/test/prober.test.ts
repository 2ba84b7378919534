import { Writable } from "node:stream";
import { connectBus, createYardStreams, type KV, type NatsConnection, putJson } from "@switchyard/bus";
import { Buckets, EndpointRecord, replicaKey, Subjects, YardEvent } from "@switchyard/contracts";
import { createLogger } from "@switchyard/runtime";
import { endpointRecord, replicaRecord, specRecord, startNats, type TestNats } from "@switchyard/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { build, type ProberApp } from "../src/app.js";
import { startUpstream } from "./upstream.js";
import { waitForState } from "./wait.js";

const TOKEN = "sk-prober-test-4f2a9c";
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const logLines: string[] = [];
const logger = createLogger({
  name: "prober",
  level: "debug",
  destination: new Writable({
    write(chunk, _enc, cb) {
      logLines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  }),
});

let nats: TestNats;
let nc: NatsConnection;
let specs: KV;
let replicas: KV;
let endpoints: KV;
const cleanups: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  nats = await startNats();
  nc = await connectBus({ url: nats.url, name: "prober-test", logger });
  // The streams, as the spec service creates them (the prober only binds).
  const kvs = await createYardStreams(nc);
  [specs, replicas, endpoints] = [kvs[Buckets.specs], kvs[Buckets.replicas], kvs[Buckets.endpoints]];
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await nc.close();
  await nats.dispose();
});

async function startProber(
  intervalMs = 200,
  stopGraceMs?: number,
  thresholdMs = 180_000,
): Promise<ProberApp> {
  const app = build({
    nc,
    logger,
    stopGraceMs,
    config: {
      YARD_PROBE_INTERVAL_MS: intervalMs,
      YARD_PROBE_FAILURE_THRESHOLD_MS: thresholdMs,
      YARD_PROBE_CONCURRENCY: 64,
    },
  });
  cleanups.push(() => app.stop());
  await app.start();
  return app;
}

async function upstream(opts: Parameters<typeof startUpstream>[0]) {
  const u = await startUpstream(opts);
  cleanups.push(() => u.kill());
  return u;
}

/** Every event of a service, as published on its subjects. */
function eventsOf(service: string) {
  const seen: YardEvent[] = [];
  const waiters: { type: string; resolve: (e: YardEvent) => void }[] = [];
  const sub = nc.subscribe(Subjects.events(service, ">"), {
    callback: (_e, m) => {
      const ev = YardEvent.parse(m.json());
      seen.push(ev);
      for (const w of waiters.filter((w) => w.type === ev.type)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(ev);
      }
    },
  });
  cleanups.push(async () => sub.unsubscribe());
  return {
    seen,
    next: <T extends YardEvent["type"]>(type: T) =>
      new Promise<Extract<YardEvent, { type: T }>>((resolve) => {
        const hit = seen.find((e) => e.type === type);
        if (hit) resolve(hit as Extract<YardEvent, { type: T }>);
        else waiters.push({ type, resolve: resolve as (e: YardEvent) => void });
      }),
  };
}

const present = (key: string) => (m: Map<string, unknown>) => m.has(key);
const absent = (key: string) => (m: Map<string, unknown>) => !m.has(key);

describe("prober (in process, real nats-server and HTTP)", () => {
  it("publishes the endpoint once GET /v1/models with the spec's bearer header answers 200", async () => {
    const up = await upstream({ token: TOKEN });
    await putJson(specs, "llm", specRecord({ name: "llm", probe: { headers: AUTH } }));
    const events = eventsOf("llm");
    await startProber();
    await putJson(
      replicas,
      replicaKey("llm", 1),
      replicaRecord({ service: "llm", id: 1, url: up.url, accelerator: "L4" }),
    );

    const m = await waitForState(endpoints, present("llm.1"), "endpoint llm.1");
    expect(EndpointRecord.parse(m.get("llm.1"))).toMatchObject({
      service: "llm",
      replica_id: 1,
      url: up.url,
      revision: 1,
      accelerator: "L4",
    });
    expect(up.seen[0]).toMatchObject({ method: "GET", path: "/v1/models", authorization: `Bearer ${TOKEN}` });
    expect(await events.next("replica.ready")).toMatchObject({ replica_id: 1, url: up.url, revision: 1 });
  });

  /** A prober, and replica llm.1 (revision 1) ready with its endpoint published. */
  async function readyLlm() {
    const up = await upstream({ token: TOKEN });
    await putJson(specs, "llm", specRecord({ name: "llm", probe: { headers: AUTH } }));
    await startProber();
    const rec = replicaRecord({ service: "llm", id: 1, url: up.url, phase: "READY" });
    await putJson(replicas, "llm.1", rec);
    await waitForState(endpoints, present("llm.1"), "endpoint llm.1");
    return { up, rec };
  }

  it("a draining replica keeps its endpoint, marked draining and no longer probed, until its drain ends", async () => {
    const { up, rec } = await readyLlm();
    const drain = { since: new Date().toISOString(), deadline: new Date().toISOString(), in_flight: 3 };
    await putJson(replicas, "llm.1", { ...rec, phase: "SHUTTING_DOWN", reason: "ScaledDown", drain });
    const draining = await waitForState(
      endpoints,
      (m) => (m.get("llm.1") as EndpointRecord | undefined)?.draining === true,
      "endpoint llm.1 draining",
    );
    expect(EndpointRecord.parse(draining.get("llm.1"))).toMatchObject({ url: up.url, revision: 1 });
    // Not probed any more: its end is decided (a failing probe must not take the mark away).
    // A witness replica of the same service counts the prober's ticks: three probes of it are
    // three ticks in which llm.1 would have been probed too.
    const probes = up.seen.length;
    const witness = await upstream({ token: TOKEN });
    await putJson(
      replicas,
      "llm.2",
      replicaRecord({ service: "llm", id: 2, url: witness.url, phase: "READY" }),
    );
    await waitForState(endpoints, present("llm.2"), "endpoint llm.2");
    const ticks = witness.seen.length + 3;
    await witness.nextRequest(() => witness.seen.length >= ticks);
    expect(up.seen.length).toBe(probes);
    await putJson(replicas, "llm.1", { ...rec, phase: "SHUTTING_DOWN", reason: "ScaledDown", drain: null });
    await waitForState(endpoints, absent("llm.1"), "endpoint llm.1 gone at the drain's end");
  });

  it("a retag (the spec changed in service: only) relabels the endpoint without taking it away", async () => {
    const { rec } = await readyLlm();
    const deletes: string[] = [];
    const w = await endpoints.watch({ key: "llm.1", include: "updates" });
    void (async () => {
      for await (const e of w) if (e.operation !== "PUT") deletes.push(e.operation);
    })();
    cleanups.push(async () => w.stop());
    await putJson(specs, "llm", specRecord({ name: "llm", revision: 2, probe: { headers: AUTH } }));
    await putJson(replicas, "llm.1", { ...rec, revision: 2 });
    await waitForState(
      endpoints,
      (m) => (m.get("llm.1") as EndpointRecord | undefined)?.revision === 2,
      "endpoint llm.1 of revision 2",
    );
    expect(deletes).toEqual([]);
  });

  it("without the probe's headers it never becomes ready and fails with FAILED_INITIAL_DELAY naming the 401", async () => {
    const up = await upstream({ token: TOKEN });
    await putJson(specs, "noauth", specRecord({ name: "noauth", probe: { initial_delay_seconds: 1 } }));
    const events = eventsOf("noauth");
    await startProber();
    await putJson(
      replicas,
      replicaKey("noauth", 1),
      replicaRecord({ service: "noauth", id: 1, url: up.url }),
    );

    const failed = await events.next("replica.failed");
    expect(failed).toMatchObject({
      replica_id: 1,
      phase: "FAILED_INITIAL_DELAY",
      reason: "InitialDelayExceeded",
    });
    expect(failed.message).toMatch(/GET \/v1\/models got HTTP 401 for \d+ s \(initial_delay_seconds 1\)/);
    expect(up.seen.length).toBeGreaterThan(1);
    expect(up.seen.every((r) => r.authorization === undefined)).toBe(true);
    expect(events.seen.map((e) => e.type)).not.toContain("replica.ready");
    expect(await endpoints.get("noauth.1")).toBeNull();
  });

  it("a ready replica whose engine dies is unready at once, and FAILED_PROBING after the threshold", async () => {
    const up = await upstream({ token: TOKEN });
    await putJson(specs, "dies", specRecord({ name: "dies", probe: { headers: AUTH } }));
    const events = eventsOf("dies");
    await startProber(200, undefined, 1_000);
    await putJson(
      replicas,
      replicaKey("dies", 1),
      replicaRecord({ service: "dies", id: 1, url: up.url, phase: "READY" }),
    );
    await waitForState(endpoints, present("dies.1"), "endpoint dies.1");

    await up.kill();
    await waitForState(endpoints, absent("dies.1"), "endpoint dies.1 deleted");
    const unready = await events.next("replica.unready");
    expect(unready.message).toMatch(
      /^readiness probe GET \/v1\/models got (connection refused|connection closed)/,
    );
    const failed = await events.next("replica.failed");
    expect(failed).toMatchObject({ phase: "FAILED_PROBING", reason: "ProbeFailing" });
    expect(failed.message).toMatch(/not ready for \d+ s \(threshold 1 s\)$/);
  });

  it("probes with POST and post_data as JSON when the spec has post_data", async () => {
    const up = await upstream({ token: TOKEN });
    const post_data = { model: "m", prompt: "ping", max_tokens: 1 };
    await putJson(
      specs,
      "post",
      specRecord({ name: "post", probe: { path: "/v1/completions", post_data, headers: AUTH } }),
    );
    await startProber();
    await putJson(replicas, replicaKey("post", 1), replicaRecord({ service: "post", id: 1, url: up.url }));

    await waitForState(endpoints, present("post.1"), "endpoint post.1");
    expect(up.seen[0]).toMatchObject({
      method: "POST",
      path: "/v1/completions",
      contentType: "application/json",
      authorization: `Bearer ${TOKEN}`,
    });
    expect(JSON.parse(up.seen[0].body)).toEqual(post_data);
  });

  it("a 204 is not ready: no endpoint while the engine answers 204, one as soon as it answers 200", async () => {
    const up = await upstream({ status: 204 });
    await putJson(specs, "nocontent", specRecord({ name: "nocontent" }));
    await startProber(60_000);
    await putJson(
      replicas,
      replicaKey("nocontent", 1),
      replicaRecord({ service: "nocontent", id: 1, url: up.url }),
    );
    await up.nextRequest();
    up.state.status = 200;
    // The interval is a minute: only the hint can explain a second probe.
    nc.publish(Subjects.probeHint, "not json");
    nc.publish(
      Subjects.probeHint,
      JSON.stringify({ schema: 1, service: "nocontent", replica_id: 1, url: up.url }),
    );
    await waitForState(endpoints, present("nocontent.1"), "endpoint nocontent.1");
    expect(up.seen.map((r) => r.path)).toEqual(["/v1/models", "/v1/models"]);
    expect(logLines.some((l) => /skipping malformed probe hint/.test(l))).toBe(true);
  });

  it.each([
    ["the replica record is deleted", (kv: KV) => kv.delete("gone.1")],
    [
      "the replica goes SHUTTING_DOWN",
      (kv: KV, url: string) =>
        putJson(kv, "gone.1", replicaRecord({ service: "gone", id: 1, url, phase: "SHUTTING_DOWN" })),
    ],
  ])("deletes the endpoint at once when %s", async (_n, change) => {
    const up = await upstream({ token: TOKEN });
    await putJson(specs, "gone", specRecord({ name: "gone", probe: { headers: AUTH } }));
    await startProber(60_000);
    await putJson(replicas, "gone.1", replicaRecord({ service: "gone", id: 1, url: up.url }));
    await waitForState(endpoints, present("gone.1"), "endpoint gone.1");
    await change(replicas, up.url);
    await waitForState(endpoints, absent("gone.1"), "endpoint gone.1 deleted");
  });

  it("a push consumer aimed at yard.hint.probe (endpoint records are hint-shaped) probes nothing: each delivery is refused and logged", async () => {
    const up = await upstream({ token: TOKEN });
    await putJson(specs, "aimed", specRecord({ name: "aimed", probe: { headers: AUTH } }));
    await startProber(60_000);
    await putJson(replicas, "aimed.1", replicaRecord({ service: "aimed", id: 1, url: up.url }));
    await waitForState(endpoints, present("aimed.1"), "endpoint aimed.1");
    // What any reader of yard-endpoints (a proxy, the CLI) may do: the prober listens there.
    const stream = `KV_${Buckets.endpoints}`;
    const filter = `$KV.${Buckets.endpoints}.>`;
    const created = await nc.request(
      `$JS.API.CONSUMER.CREATE.${stream}.aimed.${filter}`,
      JSON.stringify({
        stream_name: stream,
        config: {
          name: "aimed",
          deliver_subject: Subjects.probeHint,
          deliver_policy: "all",
          ack_policy: "none",
          filter_subject: filter,
        },
      }),
    );
    expect(JSON.parse(created.string())).toMatchObject({ push_bound: true });
    const refusal = (l: string) =>
      l.includes('"event":"bus.message_refused"') && l.includes(`"reply":"$JS.ACK.${stream}.aimed.`);
    await expect.poll(() => logLines.some(refusal), { timeout: 5_000 }).toBe(true);
    // The interval is a minute: the first probe is the only one.
    expect(up.seen.map((r) => r.path)).toEqual(["/v1/models"]);
  });

  it("at start, drops endpoints of deleted or non-probed replicas and keeps the ready one", async () => {
    const up = await upstream({ token: TOKEN });
    await putJson(specs, "conv", specRecord({ name: "conv", probe: { headers: AUTH } }));
    await putJson(replicas, "conv.1", replicaRecord({ service: "conv", id: 1, url: up.url, phase: "READY" }));
    await putJson(
      replicas,
      "conv.2",
      replicaRecord({ service: "conv", id: 2, url: up.url, phase: "FAILED_PROBING" }),
    );
    await putJson(endpoints, "conv.1", endpointRecord({ service: "conv", replica_id: 1, url: up.url }));
    await putJson(endpoints, "conv.2", endpointRecord({ service: "conv", replica_id: 2, url: up.url }));
    await putJson(endpoints, "conv.3", endpointRecord({ service: "conv", replica_id: 3, url: up.url }));
    await endpoints.put("conv.4", "{not json");
    await startProber(60_000);
    const m = await waitForState(endpoints, (m) => m.size === 1, "only conv.1 left");
    expect([...m.keys()]).toEqual(["conv.1"]);
    expect(await endpoints.get("conv.4")).toMatchObject({ operation: "DEL" });
    expect(logLines.some((l) => /"removedEndpoints":3/.test(l) && /"msg":"ready"/.test(l))).toBe(true);
  });

  it("at start, the endpoint of a replica relabelled while no prober ran stays up and says the new revision", async () => {
    // A NATS election: the prober's term ended, the provisioner relabelled the replica (a
    // scale-up), then a new prober term starts and finds the endpoint of the old revision.
    const up = await upstream({ token: TOKEN });
    await putJson(specs, "conv", specRecord({ name: "conv", revision: 2, probe: { headers: AUTH } }));
    await putJson(
      replicas,
      "conv.1",
      replicaRecord({ service: "conv", id: 1, revision: 2, url: up.url, phase: "READY" }),
    );
    await putJson(
      endpoints,
      "conv.1",
      endpointRecord({ service: "conv", replica_id: 1, revision: 1, url: up.url }),
    );
    const deletes: string[] = [];
    const w = await endpoints.watch({ key: "conv.1", include: "updates" });
    void (async () => {
      for await (const e of w) if (e.operation !== "PUT") deletes.push(e.operation);
    })();
    cleanups.push(async () => w.stop());
    await startProber(60_000);
    await waitForState(
      endpoints,
      (m) => (m.get("conv.1") as EndpointRecord | undefined)?.revision === 2,
      "endpoint conv.1 of revision 2",
    );
    expect(deletes).toEqual([]);
    expect(logLines.some((l) => /"removedEndpoints":0/.test(l) && /"msg":"ready"/.test(l))).toBe(true);
  });

  it("a probe with no answer within timeout_seconds is a failure", async () => {
    const up = await upstream({ token: TOKEN });
    await putJson(
      specs,
      "stuck",
      specRecord({ name: "stuck", probe: { headers: AUTH, timeout_seconds: 0.5 } }),
    );
    const events = eventsOf("stuck");
    await startProber();
    await putJson(replicas, "stuck.1", replicaRecord({ service: "stuck", id: 1, url: up.url }));
    await waitForState(endpoints, present("stuck.1"), "endpoint stuck.1");
    up.state.hang = true;
    await waitForState(endpoints, absent("stuck.1"), "endpoint stuck.1 deleted");
    expect((await events.next("replica.unready")).message).toBe(
      "readiness probe GET /v1/models got no response within 0.5 s",
    );
  });

  it("stop cuts a probe still in flight after its grace without judging the replica by it", async () => {
    const up = await upstream({ token: TOKEN });
    await putJson(specs, "halt", specRecord({ name: "halt", probe: { headers: AUTH, timeout_seconds: 60 } }));
    const events = eventsOf("halt");
    const app = await startProber(60_000, 100);
    await putJson(replicas, "halt.1", replicaRecord({ service: "halt", id: 1, url: up.url }));
    await waitForState(endpoints, present("halt.1"), "endpoint halt.1");
    up.state.hang = true;
    const hung = up.nextRequest(() => up.seen.length === 2);
    nc.publish(
      Subjects.probeHint,
      JSON.stringify({ schema: 1, service: "halt", replica_id: 1, url: up.url }),
    );
    await hung;
    await app.stop();
    expect(await endpoints.get("halt.1")).toMatchObject({ operation: "PUT" });
    expect(events.seen.map((e) => e.type)).toEqual(["replica.ready"]);
    expect(logLines.some((l) => /cutting probes still in flight/.test(l))).toBe(true);
  });

  it("probes a replica of an older revision with that revision's probe, read from the spec's history", async () => {
    const up = await upstream({ token: TOKEN });
    await putJson(specs, "roll", specRecord({ name: "roll", probe: { headers: AUTH } }));
    await putJson(
      specs,
      "roll",
      specRecord({ name: "roll", revision: 2, probe: { path: "/v2/health", headers: AUTH } }),
    );
    await putJson(
      replicas,
      "roll.1",
      replicaRecord({ service: "roll", id: 1, url: up.url, revision: 1, phase: "READY" }),
    );
    // Started after revision 2 replaced revision 1 in the bucket: only the history has /v1/models.
    await startProber();
    await waitForState(endpoints, present("roll.1"), "endpoint roll.1");
    expect(up.seen.map((r) => r.path)).toContain("/v1/models");
    expect(up.seen.map((r) => r.path)).not.toContain("/v2/health");
  });

  it("goes on after a nats-server restart: a replica that dies afterwards still loses its endpoint", async () => {
    const up = await upstream({ token: TOKEN });
    await putJson(specs, "bounce", specRecord({ name: "bounce", probe: { headers: AUTH } }));
    await startProber();
    await putJson(replicas, "bounce.1", replicaRecord({ service: "bounce", id: 1, url: up.url }));
    await waitForState(endpoints, present("bounce.1"), "endpoint bounce.1");
    await nats.restart();
    await up.kill();
    await waitForState(endpoints, absent("bounce.1"), "endpoint bounce.1 deleted after the restart");
  });

  it("no captured log line (debug level, all tests above) holds the token", () => {
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.filter((l) => l.includes(TOKEN))).toEqual([]);
  });
});
