import { Buckets, type ScaleRecord } from "@switchyard/contracts";
import { inPhase, ofService, type Proc, startTs, TestSystem, waitForKey } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProxyProc, startProxy } from "../services/proxy/test/helpers.js";

// Issue 9's acceptance end to end, as a user would see it: nats-server, spec, provisioner,
// prober, autoscaler and three proxies as real processes, the `yard` CLI, and fake-engine
// replicas that take 1 s to load their "model". A min_replicas 0 service idles at zero, its
// first request is held through the cold start, ~8 QPS over the three proxies brings three
// replicas, and silence brings it back to zero; no request fails on the way. Scaled down in
// time: a 4 s QPS window, decisions every 200 ms, proxies report every 200 ms.

const SERVICE = "llm";
const WINDOW_S = 4;
const REPORT_MS = 200;
const COLD_START_MS = 1000;
/** The load: 8 requests a second (target 2 per replica: 4 wanted, max 3), round robin over the proxies. */
const QPS = 8;

const YAML = `name: ${SERVICE}
resources:
  ports: 8000
run: exec fake-openai-engine --model "elastic-$YARD_REPLICA_ID" --host 127.0.0.1 --port "$YARD_REPLICA_PORT" --startup-delay-ms ${COLD_START_MS}
service:
  readiness_probe: /v1/models
  replica_policy: { min_replicas: 0, max_replicas: 3, target_qps_per_replica: 2, upscale_delay_seconds: 0, downscale_delay_seconds: 3 }
`;

// Port 8000 held: each replica gets a free port of its own. The provisioner drains a replica
// scaled down until the proxies' reports (every REPORT_MS) say it is idle.
const provisioner = { YARD_PROXY_REPORT_MS: String(REPORT_MS), YARD_DRAIN_TIMEOUT_S: "5" };
const sys = new TestSystem({
  env: { provisioner, prober: { YARD_PROBE_INTERVAL_MS: "200" } },
  holdPorts: [8000],
});
let proxies: ProxyProc[] = [];
let autoscaler: Proc;
/** The autoscaler's /metrics address. */
let metricsAt: string;

/** One request through a proxy, as its client saw it. */
interface Answer {
  proxy: number;
  sentAt: number;
  /** When its response's headers arrived (the non-streamed body comes with them). */
  firstByteAt: number | null;
  status: number | null;
  model: string | null;
  error: string | null;
}

async function complete(proxy: number): Promise<Answer> {
  const a: Answer = { proxy, sentAt: Date.now(), firstByteAt: null, status: null, model: null, error: null };
  try {
    const res = await fetch(`${proxies[proxy].url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "hi", max_tokens: 1 }),
    });
    a.firstByteAt = Date.now();
    a.status = res.status;
    const text = await res.text();
    a.model = res.ok ? (JSON.parse(text) as { model: string }).model : null;
  } catch (err) {
    a.error = String((err as Error).cause ?? err);
  }
  return a;
}

/**
 * An open-loop load generator: request i leaves at start + i / QPS (whatever the answers take),
 * to proxy i mod 3, so each proxy sees a third of the load.
 */
class Load {
  readonly startedAt = Date.now();
  readonly sent: Promise<Answer>[] = [];
  /** When each request left, as the generator counts them. */
  readonly sentAt: number[] = [];
  private running = true;
  private readonly loop: Promise<void>;
  constructor(private readonly qps: number) {
    this.loop = this.run();
  }
  private async run(): Promise<void> {
    for (let i = 0; this.running; i++) {
      const due = this.startedAt + (i * 1000) / this.qps;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      if (!this.running) break;
      this.sentAt.push(Date.now());
      this.sent.push(complete(i % proxies.length));
    }
  }
  /** Pacing: resolves once the generator has been sending for `ms`. */
  runFor(ms: number): Promise<void> {
    const left = this.startedAt + ms - Date.now();
    return left > 0 ? new Promise((r) => setTimeout(r, left)) : Promise.resolve();
  }
  /** Requests per second the generator sent in (now - window, now]. */
  qpsWithin(windowMs: number, now = Date.now()): number {
    return this.sentAt.filter((t) => t > now - windowMs && t <= now).length / (windowMs / 1000);
  }
  async stop(): Promise<Answer[]> {
    this.running = false;
    await this.loop;
    return Promise.all(this.sent);
  }
}

/** The service's yard-scale record, once `done` holds for it. */
async function scaleRecord(done: (r: ScaleRecord) => boolean, what: string, timeoutMs = 30_000) {
  const m = await waitForKey<ScaleRecord>(
    await sys.kv(Buckets.scale),
    (es) => {
      const r = es.get(SERVICE);
      return r !== undefined && done(r);
    },
    { key: SERVICE, timeoutMs, what },
  );
  return m.get(SERVICE)!;
}

/** One of the autoscaler's gauges for the service, from its /metrics (null: not there). */
async function gauge(name: string): Promise<number | null> {
  const text = await (await fetch(`${metricsAt}/metrics`)).text();
  const m = new RegExp(`^${name}\\{service="${SERVICE}"\\} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : null;
}

/** The autoscaler's decisions, as it logged them. */
const decisions = () =>
  autoscaler.lines
    .filter((l) => l.includes('"msg":"decided"'))
    .map((l) => JSON.parse(l) as { to: number; reason: string; qps: number });

const failures = (as: readonly Answer[]) => as.filter((a) => a.status !== 200 || a.error !== null);

beforeAll(async () => {
  await sys.start("spec", "provisioner", "prober");
  autoscaler = startTs("services/autoscaler/src/main.ts", [], {
    NATS_URL: sys.nats.url,
    LOG_LEVEL: "info",
    YARD_AUTOSCALER_INTERVAL_MS: "200",
    YARD_AUTOSCALER_QPS_WINDOW_S: String(WINDOW_S),
    YARD_AUTOSCALER_WARMUP_MS: "500",
    YARD_AUTOSCALER_REFRESH_MS: "500",
    YARD_AUTOSCALER_METRICS_PORT: "0",
  });
  sys.procs.push(autoscaler);
  const [listening] = await Promise.all([
    autoscaler.waitForLine(/"msg":"listening"/, 60_000),
    autoscaler.waitForLine(/"msg":"ready"/, 60_000),
  ]);
  metricsAt = JSON.parse(listening).address;
  proxies = await Promise.all(
    [0, 1, 2].map(() =>
      startProxy(sys.nats.url, {
        YARD_PROXY_REPORT_MS: String(REPORT_MS),
        YARD_DEFAULT_SERVICE: SERVICE,
        YARD_PROXY_HOLD_TIMEOUT_MS: "30000",
      }),
    ),
  );
  // The proxies are dispose()d with the system (last started, first stopped).
  sys.procs.push(...proxies.map((p) => p.proc));
}, 120_000);
afterAll(() => sys.dispose(), 60_000);

describe("elastic capacity (issue 9): min_replicas 0, max 3, 2 QPS per replica", () => {
  it("idles at zero replicas after yard up", async () => {
    const up = await sys.yard(["up", sys.writeYaml(SERVICE, YAML)]);
    expect(up.code, up.all).toBe(0);
    // Every proxy routes the service (so a request is held, not unknown), and the autoscaler
    // decided for it from its load (not a stored target kept while it warms up): zero.
    await Promise.all(
      proxies.map((p) =>
        p.logged(new RegExp(`"op":"put","service":"${SERVICE}".*"msg":"service route changed"`)),
      ),
    );
    const idle = await scaleRecord((r) => r.reason !== "paused", "a decision for the idle service");
    expect(idle).toMatchObject({ target_replicas: 0, reason: "min_replicas", revision: 1 });
    const now = ofService(await sys.until(() => true, "a snapshot"), SERVICE);
    expect(now.replicas).toEqual([]);
    expect(now.endpoints).toEqual([]);
    expect(await scaleRecord(() => true, "the record")).toMatchObject({ target_replicas: 0 });
  }, 60_000);

  it("the first request is held through the cold start and answered 200, never 503", async () => {
    const first = await complete(0);
    expect(first).toMatchObject({ status: 200, error: null, model: expect.stringMatching(/^elastic-\d+$/) });
    const ttfb = first.firstByteAt! - first.sentAt;
    // It waited for a replica to load its model: at least the engine's cold start.
    expect(ttfb).toBeGreaterThanOrEqual(COLD_START_MS);
    // One request from zero is one replica (not a 5 QPS burst from a proxy's first 200 ms).
    const rec = await scaleRecord((r) => r.target_replicas >= 1, "a target above zero");
    expect(rec.target_replicas).toBe(1);
    console.log(
      `first request from zero: first byte after ${ttfb} ms (engine cold start ${COLD_START_MS} ms)`,
    );
  }, 60_000);

  it("~8 QPS over three proxies: 3 READY replicas, the autoscaler's QPS is the proxies' sum; silence: back to 0; no request failed", async () => {
    // Started right after the first request, before silence could take the service back to zero.
    const load = new Load(QPS);
    const three = await sys.until(
      (s) => {
        const x = ofService(s, SERVICE);
        return inPhase(x.replicas, "READY").length === 3 && x.endpoints.length === 3;
      },
      "3 READY replicas under load",
      45_000,
    );
    const threeAt = Date.now();
    expect(ofService(three, SERVICE).replicas).toHaveLength(3);
    await scaleRecord((r) => r.target_replicas === 3, "target 3");

    // A whole window of steady load after the last replica came up: every proxy's requests
    // of the window are in the autoscaler's QPS, which is then the generator's rate.
    await load.runFor(Math.max(threeAt - load.startedAt, WINDOW_S * 1000) + WINDOW_S * 1000);
    const seen = (await gauge("yard_autoscaler_qps")) ?? Number.NaN;
    const sent = load.qpsWithin(WINDOW_S * 1000);
    const rec = await scaleRecord((r) => r.target_replicas === 3 && (r.qps ?? 0) > 0, "a record at 3");
    const answers = await load.stop();
    const stoppedAt = Date.now();

    // The three proxies each saw a third of it; the sum is what the autoscaler decided on.
    const perProxy = [0, 1, 2].map((p) => answers.filter((a) => a.proxy === p).length);
    expect(Math.min(...perProxy)).toBeGreaterThan(0);
    expect(Math.abs(seen - sent)).toBeLessThanOrEqual(0.1 * sent);
    expect(rec).toMatchObject({ target_replicas: 3, reason: "max_replicas" });

    expect(failures(answers)).toEqual([]);
    expect(answers.length).toBeGreaterThanOrEqual(QPS * WINDOW_S);
    // The new replicas served too: the load was spread over them.
    expect(new Set(answers.map((a) => a.model)).size).toBe(3);

    // Silence: after the window empties and the downscale delay, back to zero replicas.
    await scaleRecord((r) => r.target_replicas === 0, "target back to 0", 30_000);
    await sys.until(
      (s) => ofService(s, SERVICE).replicas.length === 0 && ofService(s, SERVICE).endpoints.length === 0,
      "zero replicas after silence",
      45_000,
    );
    const zeroAt = Date.now();
    // Up to 3 without a step back while the load rose and held, then down to 0: no flapping.
    const targets = decisions().map((d) => d.to);
    const peak = targets.indexOf(3);
    expect(peak).toBeGreaterThan(0);
    expect(targets.slice(0, peak + 1)).toEqual([...targets.slice(0, peak + 1)].sort((a, b) => a - b));
    expect(targets.slice(peak)).toEqual([...targets.slice(peak)].sort((a, b) => b - a));
    expect(targets.at(-1)).toBe(0);

    console.log(
      [
        `load: ${answers.length} requests at ${QPS} QPS over 3 proxies (${perProxy.join(" / ")}), ${failures(answers).length} failed`,
        `3 READY replicas ${threeAt - load.startedAt} ms after the load began`,
        `QPS over the last ${WINDOW_S} s: autoscaler ${seen.toFixed(2)} (yard-scale record ${rec.qps?.toFixed(2)}), generator ${sent.toFixed(2)}`,
        `back to 0 replicas ${zeroAt - stoppedAt} ms after the load stopped`,
        `decisions: ${decisions()
          .map((d) => `${d.to} (${d.reason}, ${d.qps.toFixed(2)} QPS)`)
          .join(" -> ")}`,
      ].join("\n"),
    );
  }, 120_000);
});
