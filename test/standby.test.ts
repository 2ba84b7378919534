import { createServer, type Server } from "node:http";
import {
  connectBus,
  getJson,
  type KV,
  type NatsConnection,
  openBucket,
  putJson,
  silentLogger,
  watchBucket,
} from "@switchyard/bus";
import {
  Buckets,
  LOAD_SCHEMA_VERSION,
  type LoadReport,
  replicaKey,
  SpecRecord,
  Subjects,
} from "@switchyard/contracts";
import {
  endpointRecord,
  type Proc,
  quietPort,
  replicaRecord,
  specRecord,
  startNats,
  startTs,
  type TestNats,
  TestSystem,
} from "@switchyard/testkit";
import { BUS_USERS, devPassword, NATS_CONF_PATH, passwordVar } from "@switchyard/up";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { writeYaml, yard } from "./spec-cli-helpers.js";

/**
 * Standby instances of the single writers (issue 13), as real processes, each as its own NATS
 * user on deploy/nats/yard.conf. A leader killed (SIGKILL) is replaced by its standby; a leader
 * paused (SIGSTOP) past its lease is replaced too, and once resumed (SIGCONT) it steps down
 * without one more write landing: every revision of the bucket is attributed, by the
 * writers' own logs, to one instance, and the old leader's all come before the new one's.
 * Leases here: TTL 1.5 s, renewed every 300 ms (the defaults are 3 s / 1 s). Waits are on log
 * lines and KV watches, never on time.
 */
const SERVICE = "llm";
const LEASE = { YARD_LEASE_TTL_MS: "1500", YARD_LEASE_RENEW_MS: "300", LOG_LEVEL: "debug" };
const YAML = (maxReplicas: number) => `name: ${SERVICE}
run: echo serving on 8000
resources:
  ports: 8000
service:
  readiness_probe: /v1/models
  replica_policy:
    min_replicas: 0
    max_replicas: ${maxReplicas}
    target_qps_per_replica: 1
    upscale_delay_seconds: 0
    downscale_delay_seconds: 600
`;

let nats: TestNats;
const procs: Proc[] = [];
const servers: Server[] = [];
let provisioner: NatsConnection;
let proxy: NatsConnection;
const cliEnv = () => ({ NATS_URL: nats.url, NATS_USER: "cli", NATS_PASS: devPassword("cli") });

function start(service: "spec" | "prober" | "autoscaler", env: NodeJS.ProcessEnv = {}): Proc {
  const p = startTs(`services/${service}/src/main.ts`, [], {
    NATS_URL: nats.url,
    NATS_USER: service,
    NATS_PASS: devPassword(service),
    ...LEASE,
    ...env,
  });
  procs.push(p);
  return p;
}

const signal = (p: Proc, sig: NodeJS.Signals) => process.kill(-p.child.pid!, sig);

/** KV revisions `p` logged as written ("<bucket> written" debug lines), in order. */
function written(p: Proc, bucket: string, from = 0): number[] {
  return p.lines
    .slice(from)
    .filter((l) => l.includes(`"msg":"${bucket} written"`))
    .map((l) => JSON.parse(l).revision as number);
}

/** Every revision of the bucket, as a watch (as the provisioner user) sees them. */
function revisionsOf(kv: KV): { all: number[]; next(pred: () => boolean): Promise<void> } {
  const all: number[] = [];
  const waiters: { pred: () => boolean; resolve: () => void }[] = [];
  watchBucket(
    kv,
    z.unknown(),
    (c) => {
      all.push(c.revision);
      for (const w of [...waiters])
        if (w.pred()) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
    },
    silentLogger,
  );
  return {
    all,
    next: (pred) => (pred() ? Promise.resolve() : new Promise((resolve) => waiters.push({ pred, resolve }))),
  };
}

/** The first line of `p` from index `from` on that matches `re`, already written or to come. */
async function waitLine(p: Proc, re: RegExp, from: number, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = p.lines.slice(from).find((l) => re.test(l));
    if (hit) return hit;
    const left = deadline - Date.now();
    if (left <= 0 || p.child.exitCode !== null || p.child.signalCode !== null)
      throw new Error(
        `no line matching ${re} after line ${from}; last lines:\n${p.lines.slice(-15).join("\n")}`,
      );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([nextLine(p), new Promise((r) => (timer = setTimeout(r, left)))]);
    clearTimeout(timer);
  }
}

/** Resolves once `p` writes one more line. */
function nextLine(p: Proc): Promise<void> {
  const n = p.lines.length;
  return new Promise((resolve) => {
    const onData = () => {
      if (p.lines.length > n) {
        p.child.stdout!.off("data", onData);
        p.child.stderr!.off("data", onData);
        resolve();
      }
    };
    p.child.stdout!.on("data", onData);
    p.child.stderr!.on("data", onData);
    void p.exited.then(() => resolve());
  });
}

/** A real HTTP engine stand-in that is ready (GET /v1/models → 200). */
async function engine(): Promise<string> {
  const s = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"data":[]}');
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
}

beforeAll(async () => {
  for (const u of BUS_USERS) process.env[passwordVar(u)] = devPassword(u);
  nats = await startNats({ config: NATS_CONF_PATH });
  const as = (user: "provisioner" | "proxy") =>
    connectBus({
      url: nats.url,
      name: `standby-${user}`,
      user,
      pass: devPassword(user),
      logger: silentLogger,
    });
  provisioner = await as("provisioner");
  proxy = await as("proxy");
});

afterAll(async () => {
  for (const p of procs) {
    if (p.child.exitCode === null && p.child.signalCode === null) signal(p, "SIGCONT");
  }
  await Promise.all(procs.map((p) => p.stop(5_000)));
  for (const s of servers) s.close();
  await provisioner?.close();
  await proxy?.close();
  await nats?.dispose();
});

describe("standby instances", () => {
  it("spec: the second instance stands by; after a SIGKILL of the leader it answers yard up, and no spec is lost", {
    timeout: 90_000,
  }, async () => {
    const a = start("spec", { YARD_SPEC_HTTP_PORT: "0" });
    await a.waitForLine(/"msg":"ready"/, 60_000);
    const up1 = await yard(["up", writeYaml("standby.yaml", YAML(2))], cliEnv());
    expect(up1.code, up1.all).toBe(0);
    const b = start("spec", { YARD_SPEC_HTTP_PORT: "0" });
    await b.waitForLine(/lease held by another: standing by/);
    expect(b.lines.some((l) => l.includes('"msg":"ready"'))).toBe(false);

    signal(a, "SIGKILL");
    await a.exited;
    await b.waitForLine(/"msg":"ready"/);
    const up2 = await yard(["up", writeYaml("standby.yaml", YAML(3))], cliEnv());
    expect(up2.code, up2.all).toBe(0);
    const specs = await openBucket(provisioner, Buckets.specs);
    const rec = await getJson(specs, SERVICE, SpecRecord);
    expect(rec?.value).toMatchObject({
      revision: 2,
      spec: { service: { replica_policy: { max_replicas: 3 } } },
    });
  });

  it("autoscaler: SIGSTOP the leader, the standby takes over and decides; on SIGCONT the old one steps down and none of its writes lands after the new leader's", async () => {
    const env = {
      YARD_AUTOSCALER_INTERVAL_MS: "200",
      YARD_AUTOSCALER_QPS_WINDOW_S: "6",
      YARD_AUTOSCALER_WARMUP_MS: "500",
      YARD_AUTOSCALER_REFRESH_MS: "300",
      YARD_AUTOSCALER_METRICS_PORT: "0",
    };
    const scale = revisionsOf(await openBucket(provisioner, Buckets.scale));
    const a = start("autoscaler", env);
    await a.waitForLine(/"msg":"ready"/, 60_000);
    const b = start("autoscaler", env);
    await b.waitForLine(/lease held by another: standing by/, 60_000);
    // Load from one proxy: the QPS it reports changes each report, so records keep being rewritten.
    let seq = 0;
    const report = setInterval(() => {
      const r: LoadReport = {
        schema: LOAD_SCHEMA_VERSION,
        proxy_id: "proxy-a:1",
        service: SERVICE,
        seq: ++seq,
        interval_ms: 250,
        requests: 1 + (seq % 3),
        in_flight: {},
        held: 0,
        sent_at: new Date().toISOString(),
      };
      proxy.publish(Subjects.load, JSON.stringify({ schema: LOAD_SCHEMA_VERSION, reports: [r] }));
    }, 250);
    try {
      await waitLine(a, /"msg":"yard-scale written"/, 0);
      signal(a, "SIGSTOP");
      await b.waitForLine(/lease acquired: leading/);
      const bFirst = JSON.parse(await waitLine(b, /"msg":"yard-scale written"/, 0)).revision as number;
      const atCont = a.lines.length;
      signal(a, "SIGCONT");
      await waitLine(a, /lease lost: stepping down/, atCont);
      const down = a.lines.length;
      await waitLine(a, /"msg":"standing by"/, atCont);
      // B goes on writing after A is back; then every revision so far is attributed.
      const bAt = b.lines.length;
      await waitLine(b, /"msg":"yard-scale written"/, bAt);
      const fromA = written(a, "yard-scale");
      const fromB = written(b, "yard-scale");
      await scale.next(() => [...fromA, ...fromB].every((r) => scale.all.includes(r)));
      expect([...scale.all].sort((x, y) => x - y)).toEqual([...fromA, ...fromB].sort((x, y) => x - y));
      expect(Math.max(...fromA)).toBeLessThan(bFirst);
      // After it stepped down, A only stood by.
      expect(written(a, "yard-scale", down)).toEqual([]);
    } finally {
      clearInterval(report);
    }
  });

  it("autoscaler: a hot standby hears the proxies while it stands by (writing nothing); after a SIGKILL of the leader its first decision is made warm, without a new warm-up", {
    timeout: 90_000,
  }, async () => {
    const env = {
      YARD_AUTOSCALER_INTERVAL_MS: "200",
      YARD_AUTOSCALER_QPS_WINDOW_S: "3",
      YARD_AUTOSCALER_REFRESH_MS: "300",
      YARD_AUTOSCALER_METRICS_PORT: "0",
    };
    // The previous case's autoscalers hold the lease: stop them (SIGTERM) first.
    const earlier = procs.filter((p) => p.child.spawnargs.join(" ").includes("services/autoscaler/"));
    expect(await Promise.all(earlier.map((p) => p.stop(10_000)))).toEqual(earlier.map(() => 0));
    // The leader never ends its warm-up (it only writes "paused"); the standby's is 1 s. A cold
    // standby would write "paused" too after its takeover, until a second later.
    const a = start("autoscaler", { ...env, YARD_AUTOSCALER_WARMUP_MS: "600000" });
    await a.waitForLine(/"msg":"ready"/, 60_000);
    const b = start("autoscaler", { ...env, YARD_AUTOSCALER_WARMUP_MS: "1000" });
    await b.waitForLine(/lease held by another: standing by/, 60_000);
    let seq = 0;
    const report = setInterval(() => {
      const r: LoadReport = {
        schema: LOAD_SCHEMA_VERSION,
        proxy_id: "proxy-hot:1",
        service: SERVICE,
        seq: ++seq,
        interval_ms: 250,
        requests: 3,
        in_flight: {},
        held: 0,
        sent_at: new Date().toISOString(),
      };
      proxy.publish(Subjects.load, JSON.stringify({ schema: LOAD_SCHEMA_VERSION, reports: [r] }));
    }, 250);
    try {
      await b.waitForLine(/standing by warm/);
      await waitLine(a, /"reason":"paused"[^\n]*"msg":"yard-scale written"/, 0);
      signal(a, "SIGKILL");
      await a.exited;
      await b.waitForLine(/lease acquired: leading/);
      const took = b.lines.findIndex((l) => /lease acquired: leading/.test(l));
      // While it stood by it wrote nothing.
      expect(written(b, "yard-scale").length).toBe(written(b, "yard-scale", took).length);
      expect(JSON.parse(await waitLine(b, /"msg":"ready"/, took)).warm).toBe(true);
      // Its first write decides from load (12 QPS: up to max_replicas), not "paused".
      const first = JSON.parse(await waitLine(b, /"msg":"yard-scale written"/, took));
      expect(first.reason).not.toBe("paused");
    } finally {
      clearInterval(report);
    }
  });

  it("prober: SIGSTOP the leader, the standby takes over and publishes a new replica's endpoint; on SIGCONT the old one steps down and none of its writes lands after the new leader's", async () => {
    const specs = await openBucket(provisioner, Buckets.specs);
    const revision = (await getJson(specs, SERVICE, SpecRecord))!.value.revision;
    const replicas = await openBucket(provisioner, Buckets.replicas);
    const endpoints = revisionsOf(await openBucket(provisioner, Buckets.endpoints));
    const env = { YARD_PROBE_INTERVAL_MS: "300" };
    const putReplica = async (id: number) =>
      putJson(
        replicas,
        replicaKey(SERVICE, id),
        replicaRecord({ service: SERVICE, id, revision, url: await engine() }),
      );

    const a = start("prober", env);
    await a.waitForLine(/"msg":"ready"/, 60_000);
    await putReplica(1);
    await waitLine(a, /"msg":"yard-endpoints written"/, 0);
    const b = start("prober", env);
    await b.waitForLine(/lease held by another: standing by/, 60_000);

    signal(a, "SIGSTOP");
    // A new replica while A is paused: A's watch holds it for when A resumes.
    await putReplica(2);
    await b.waitForLine(/lease acquired: leading/);
    const bFirst = JSON.parse(await waitLine(b, /"msg":"yard-endpoints written"/, 0)).revision as number;
    const atCont = a.lines.length;
    signal(a, "SIGCONT");
    await waitLine(a, /lease lost: stepping down/, atCont);
    const down = a.lines.length;
    await waitLine(a, /"msg":"standing by"/, atCont);
    // A third replica after A is back: only B publishes it.
    const bAt = b.lines.length;
    await putReplica(3);
    await waitLine(b, /"key":"llm\.3"[^\n]*"msg":"yard-endpoints written"/, bAt);

    const fromA = written(a, "yard-endpoints");
    const fromB = written(b, "yard-endpoints");
    await endpoints.next(() => [...fromA, ...fromB].every((r) => endpoints.all.includes(r)));
    expect([...endpoints.all].sort((x, y) => x - y)).toEqual([...fromA, ...fromB].sort((x, y) => x - y));
    expect(Math.max(...fromA)).toBeLessThan(bFirst);
    expect(written(a, "yard-endpoints", down)).toEqual([]);
    const kv = await openBucket(provisioner, Buckets.endpoints);
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    expect(keys.sort()).toEqual(["llm.1", "llm.2", "llm.3"]);
  });
});

describe("standby provisioner", { timeout: 180_000 }, () => {
  // The suite stands in for the spec service (its buckets, yard-leases included) and the prober.
  const w = new TestSystem({
    buckets: [Buckets.specs, Buckets.endpoints, Buckets.replicas],
    eventsStream: true,
  });
  const env = { YARD_LEASE_TTL_MS: "1500", YARD_LEASE_RENEW_MS: "300" };
  beforeAll(async () => {
    await w.start();
  });
  afterAll(async () => {
    for (const p of w.procs)
      if (p.child.exitCode === null && p.child.signalCode === null) signal(p, "SIGCONT");
    await w.dispose();
  });

  it("SIGKILL the leader: the standby adopts its running replicas (same ids, same processes), launches none, and goes on reconciling", async () => {
    const a = await w.startService("provisioner", env);
    const b = w.launch("provisioner", env);
    await b.waitForLine(/lease held by another: standing by/, 60_000);
    await w.putSpec(specRecord({ name: "web", replicas: 2, port: quietPort(), run: "exec sleep 600" }));
    const before = await w.waitReplicas(
      (rs) => rs.filter((r) => r.phase === "STARTING").length === 2,
      "2 STARTING",
    );

    signal(a, "SIGKILL");
    await a.exited;
    await b.waitForLine(/"msg":"ready"/, 60_000);
    await b.waitForLine(/"step":"adopt"/);
    // A change after the takeover, acted on by the new leader: replica 1 passes its probe.
    await w.putEndpoint(endpointRecord({ service: "web", replica_id: before[0].id }));
    const after = await w.waitReplicas(
      (rs) => rs.some((r) => r.id === before[0].id && r.phase === "READY"),
      "replica 1 READY under the new leader",
    );
    // The same replicas, the same processes: none relaunched, none added.
    expect(after.map((r) => [r.id, r.handle])).toEqual(before.map((r) => [r.id, r.handle]));
  });
});
