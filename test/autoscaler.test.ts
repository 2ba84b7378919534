import {
  connectBus,
  countEvents,
  type KV,
  type NatsConnection,
  openBucket,
  silentLogger,
  watchBucket,
} from "@switchyard/bus";
import { Buckets, LOAD_SCHEMA_VERSION, type LoadReport, ScaleRecord, Subjects } from "@switchyard/contracts";
import { type Proc, startNats, startTs, type TestNats } from "@switchyard/testkit";
import { BUS_USERS, devPassword, NATS_CONF_PATH, passwordVar } from "@switchyard/up";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeYaml, yard } from "./spec-cli-helpers.js";

/**
 * The autoscaler as a real process, as its own NATS user on deploy/nats/yard.conf, with the real
 * spec service and `yard` CLI, fed by three "proxies" (real NATS publishers of LoadReports, as
 * the proxy user) that each see part of a load. Scaled down in time: a 6 s window, decisions every 200 ms, delays of 1 s up and down (a
 * restart that read the load from a part of the window as if it were all would scale down).
 * The service: min 0, max 3, target 2 QPS per replica.
 */
const SERVICE = "llm";
const WINDOW_S = 6;
const TICK_MS = 250;
const YAML = `name: ${SERVICE}
run: echo serving on 8000
resources:
  ports: 8000
service:
  readiness_probe: /v1/models
  replica_policy:
    min_replicas: 0
    max_replicas: 3
    target_qps_per_replica: 2
    upscale_delay_seconds: 1
    downscale_delay_seconds: 1
`;
let nats: TestNats;
/** The provisioner (reads yard-scale) and the proxies' publishing connection. */
let provisioner: NatsConnection;
let proxyConn: NatsConnection;
let scale: KV;
const cliEnv = () => ({ NATS_URL: nats.url, NATS_USER: "cli", NATS_PASS: devPassword("cli") });
const procs: Proc[] = [];

/** Every yard-scale record of the service, in the order written. */
const history: ScaleRecord[] = [];
const waiters: { pred: (r: ScaleRecord) => boolean; resolve: (r: ScaleRecord) => void }[] = [];

/** The first record from index `from` on that satisfies `pred` (already written or to come). */
function waitRecord(pred: (r: ScaleRecord) => boolean, from = 0, timeoutMs = 20_000): Promise<ScaleRecord> {
  const hit = history.slice(from).find(pred);
  if (hit) return Promise.resolve(hit);
  return new Promise((resolve, reject) => {
    const w = { pred, resolve };
    waiters.push(w);
    setTimeout(() => {
      if (!waiters.includes(w)) return;
      waiters.splice(waiters.indexOf(w), 1);
      const seen = history.map((r) => `${r.target_replicas}/${r.reason}/${r.qps}`).join(" ");
      reject(new Error(`no yard-scale record as wanted within ${timeoutMs} ms; written: ${seen}`));
    }, timeoutMs);
  });
}

/** A proxy's reporter: one LoadReport every TICK_MS with the requests "received" since the last. */
class Reporter {
  private seq = 0;
  private acc = 0;
  /** Requests per second this proxy receives now. */
  rate = 0;
  /** Every report sent: [time, requests]. */
  readonly sent: [number, number][] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    readonly id: string,
  ) {
    this.timer = setInterval(() => this.send(), TICK_MS);
  }

  private send(): void {
    this.acc += (this.rate * TICK_MS) / 1000;
    const requests = Math.floor(this.acc + 1e-9);
    this.acc -= requests;
    const r: LoadReport = {
      schema: LOAD_SCHEMA_VERSION,
      proxy_id: this.id,
      service: SERVICE,
      seq: ++this.seq,
      interval_ms: TICK_MS,
      requests,
      in_flight: requests ? { "1": 1 } : {},
      held: 0,
      sent_at: new Date().toISOString(),
    };
    this.sent.push([Date.now(), requests]);
    this.nc.publish(Subjects.load, JSON.stringify({ schema: LOAD_SCHEMA_VERSION, reports: [r] }));
  }

  /** Requests it reported in the last `ms`. */
  sentWithin(ms: number, now = Date.now()): number {
    return this.sent.filter(([t]) => t > now - ms).reduce((a, [, n]) => a + n, 0);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

let proxies: Reporter[] = [];
/** The load generator: `qps` in total, seen 50% / 30% / 20% by the three proxies. */
function load(qps: number): void {
  const shares = [0.5, 0.3, 0.2];
  proxies.forEach((p, i) => {
    p.rate = qps * shares[i];
  });
}

function startAutoscaler(): Proc {
  const p = startTs("services/autoscaler/src/main.ts", [], {
    NATS_URL: nats.url,
    NATS_USER: "autoscaler",
    NATS_PASS: devPassword("autoscaler"),
    YARD_AUTOSCALER_INTERVAL_MS: "200",
    YARD_AUTOSCALER_QPS_WINDOW_S: String(WINDOW_S),
    YARD_AUTOSCALER_WARMUP_MS: "1000",
    YARD_AUTOSCALER_REFRESH_MS: "500",
    YARD_AUTOSCALER_METRICS_PORT: "0",
  });
  procs.push(p);
  return p;
}

async function kill9(p: Proc): Promise<void> {
  process.kill(-p.child.pid!, "SIGKILL");
  await p.exited;
}

/** The autoscaler's own QPS for the service, from its /metrics. */
async function metricsQps(address: string): Promise<number> {
  const text = await (await fetch(`${address}/metrics`)).text();
  const m = new RegExp(`^yard_autoscaler_qps\\{service="${SERVICE}"\\} (\\S+)$`, "m").exec(text);
  if (!m) throw new Error(`no yard_autoscaler_qps for ${SERVICE} in:\n${text}`);
  return Number(m[1]);
}

beforeAll(async () => {
  for (const u of BUS_USERS) process.env[passwordVar(u)] = devPassword(u);
  nats = await startNats({ config: NATS_CONF_PATH });
  const as = (user: "provisioner" | "proxy") =>
    connectBus({
      url: nats.url,
      name: `test-${user}`,
      user,
      pass: devPassword(user),
      logger: silentLogger,
    });
  // The spec service creates every stream; `yard up` stores the spec and its route.
  const spec = startTs("services/spec/src/main.ts", [], {
    NATS_URL: nats.url,
    NATS_USER: "spec",
    NATS_PASS: devPassword("spec"),
    YARD_SPEC_HTTP_PORT: "0",
  });
  procs.push(spec);
  await spec.waitForLine(/"msg":"ready"/, 60_000);
  const up = await yard(["up", writeYaml("autoscaled.yaml", YAML)], cliEnv());
  if (up.code !== 0) throw new Error(`yard up failed: ${up.all}`);
  provisioner = await as("provisioner");
  proxyConn = await as("proxy");
  // The provisioner's part: it reads yard-scale.
  scale = await openBucket(provisioner, Buckets.scale);
  watchBucket(
    scale,
    ScaleRecord,
    (c) => {
      if (c.op !== "put" || c.key !== SERVICE) return;
      history.push(c.value);
      for (const w of [...waiters])
        if (w.pred(c.value)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(c.value);
        }
    },
    silentLogger,
  );
  proxies = ["proxy-a:1", "proxy-b:1", "proxy-c:1"].map((id) => new Reporter(proxyConn, id));
});

afterAll(async () => {
  for (const p of proxies) p.stop();
  await Promise.all(procs.map((p) => p.stop(3_000)));
  await provisioner?.close();
  await proxyConn?.close();
  await nats?.dispose();
});

describe("autoscaler process", () => {
  let proc: Proc;
  let address: string;

  it("idles at 0; a load step of 8 QPS over three proxies reaches max 3; silence brings it back to 0", async () => {
    proc = startAutoscaler();
    address = JSON.parse(await proc.waitForLine(/"msg":"listening"/)).address;
    await proc.waitForLine(/"msg":"ready"/);
    const idle = await waitRecord((r) => r.reason !== "paused");
    expect(idle).toMatchObject({ target_replicas: 0, reason: "min_replicas", revision: 1 });

    const upFrom = history.length;
    load(8);
    const top = await waitRecord((r) => r.target_replicas === 3, upFrom);
    expect(["qps", "max_replicas"]).toContain(top.reason);
    const rising = history.slice(upFrom, history.indexOf(top) + 1).map((r) => r.target_replicas);
    expect(rising[0]).toBeGreaterThan(0); // the first request took it off zero
    expect(rising).toEqual([...rising].sort((a, b) => a - b)); // never down while the load rose

    // A whole window at a steady 8 QPS: the autoscaler's QPS is the sum of the three proxies'
    // reports (the generator's count over the window), within one report of each.
    await waitRecord((r) => r.reason === "max_replicas" && (r.qps ?? 0) > 7, upFrom);
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    const generated = proxies.reduce((a, p) => a + p.sentWithin(WINDOW_S * 1000), 0) / WINDOW_S;
    const seen = await metricsQps(address);
    expect(Math.abs(seen - generated)).toBeLessThanOrEqual(3 / WINDOW_S);
    expect(seen).toBeCloseTo(8, 0);

    const downFrom = history.length;
    load(0);
    const zero = await waitRecord((r) => r.target_replicas === 0, downFrom);
    expect(zero.reason).toBe("min_replicas");
    const falling = history.slice(downFrom, history.indexOf(zero) + 1).map((r) => r.target_replicas);
    expect(falling).toEqual([...falling].sort((a, b) => b - a));
    // Each change is an event with its reason.
    expect(await countEvents(provisioner, SERVICE, "autoscaler.decided")).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it("kill -9 mid-load: the restarted autoscaler never goes below what the load needs, then decides again", async () => {
    const from = history.length;
    load(8);
    await waitRecord((r) => r.target_replicas === 3 && r.reason === "max_replicas", from);
    await kill9(proc);
    const restartFrom = history.length;
    proc = startAutoscaler();
    await proc.waitForLine(/"msg":"ready"/);
    // It heard the proxies while it waited for the dead one's lease to lapse (a hot standby;
    // 3 s > its 1 s warm-up), so it decides at once: on a partial window it may keep or raise
    // the stored target, never lower it ("paused" only when it would lower).
    await waitRecord(() => true, restartFrom);
    await new Promise((r) => setTimeout(r, (WINDOW_S + 1) * 1000));
    const after = history.slice(restartFrom);
    expect(after.map((r) => r.target_replicas)).toEqual(after.map(() => 3));
    expect(after.at(-1)?.reason).toBe("max_replicas");

    // yard status shows the target and why (and --json has the record).
    const json = await yard(["status", "--json"], cliEnv());
    expect(json.code, json.all).toBe(0);
    expect(JSON.parse(json.stdout).services[0].autoscaler).toMatchObject({
      service: SERVICE,
      target_replicas: 3,
      reason: "max_replicas",
      wanted_replicas: 3,
    });
    const text = await yard(["status"], cliEnv());
    expect(text.stdout).toMatch(/^Autoscaler$/m);
    expect(text.stdout).toMatch(
      new RegExp(
        `^${SERVICE}\\s+3\\s+\\d+\\.\\d\\d\\s+max_replicas: the load asks for 3 \\(2 QPS per replica\\)$`,
        "m",
      ),
    );
  }, 60_000);

  it("a nats-server restart mid-load: no scale-down; decisions resume; SIGTERM exits 0", async () => {
    const from = history.length;
    await nats.restart();
    await new Promise((r) => setTimeout(r, (WINDOW_S + 2) * 1000));
    expect(history.slice(from).map((r) => r.target_replicas)).toEqual(history.slice(from).map(() => 3));
    // Decisions resume: the load goes away and the target follows it down.
    load(0);
    await waitRecord((r) => r.target_replicas === 0, from);
    expect(await proc.stop()).toBe(0);
  }, 60_000);
});
