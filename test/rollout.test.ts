import { type ReplicaRecord, replicaKey } from "@switchyard/contracts";
import { ofService, type Proc, type Snapshot, startTs, TestSystem } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProxyProc, startProxy } from "../services/proxy/test/helpers.js";

// Issue 10, items 1, 2 and 4 end to end: spec service, provisioner, prober and two proxies as
// real processes, the `yard` CLI, fake-engine replicas whose model id is the spec's MODEL_NAME
// (so every answer says which revision served it), a steady load of short completions and
// long streams through the proxies while the service is updated, scaled down and has a replica
// taken down. Scaled down in time: 10 ms a token, proxies report every 200 ms, drains end at
// 10 s at the latest.

const SERVICE = "llm";
const TOKEN_MS = 10;
const DRAIN_TIMEOUT_S = 10;
/**
 * A long stream: 6 s of tokens, usually longer than a new replica takes to start (so its old
 * replica drains while it runs; services/provisioner/test/drain.test.ts shows the wait itself
 * without timing), inside the drain timeout.
 */
const LONG_TOKENS = 600;
/** Concurrent long streams during each change (issue 10's acceptance). */
const LONG_STREAMS = 20;

const sys = new TestSystem({
  env: {
    provisioner: {
      YARD_DRAIN_TIMEOUT_S: String(DRAIN_TIMEOUT_S),
      YARD_PROXY_REPORT_MS: "200",
      YARD_TERMINATE_GRACE_MS: "3000",
    },
    prober: { YARD_PROBE_INTERVAL_MS: "300" },
  },
  holdPorts: [8000],
});
let proxies: ProxyProc[] = [];
/** `yard events llm --follow`, running through the whole suite: each step shows as it happens. */
let events: Proc;

function yaml(o: { model: string; replicas?: number; probePath?: string; initialDelay?: number }): string {
  return `name: ${SERVICE}
envs:
  MODEL_NAME: ${o.model}
resources:
  ports: 8000
run: |
  exec fake-openai-engine --model "$MODEL_NAME" --host 127.0.0.1 --port "$YARD_REPLICA_PORT" --token-delay-ms ${TOKEN_MS}
service:
  readiness_probe:
    path: ${o.probePath ?? "/v1/models"}
    initial_delay_seconds: ${o.initialDelay ?? 60}
  replicas: ${o.replicas ?? 2}
`;
}

/** One answered (or failed) request through a proxy. */
interface Answer {
  proxy: number;
  sentAt: number;
  doneAt: number;
  status: number | null;
  model: string | null;
  error: string | null;
}

/** `onArrived`: the engine took the request (a stream's headers came back, or it failed). */
async function complete(
  proxy: number,
  maxTokens: number,
  stream: boolean,
  onArrived: () => void = () => {},
): Promise<Answer & { tokens: number; done: boolean }> {
  const sentAt = Date.now();
  const out = {
    proxy,
    sentAt,
    status: null as number | null,
    model: null as string | null,
    error: null as string | null,
  };
  try {
    const res = await fetch(`${proxies[proxy].url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "hi", max_tokens: maxTokens, stream }),
    });
    onArrived();
    out.status = res.status;
    const text = await res.text();
    if (!stream) {
      out.model = res.ok ? (JSON.parse(text) as { model: string }).model : null;
      return { ...out, doneAt: Date.now(), tokens: maxTokens, done: res.ok };
    }
    const events = text
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => l.slice(6));
    const chunks = events.filter((e) => e !== "[DONE]").map((e) => JSON.parse(e) as { model: string });
    out.model = chunks[0]?.model ?? null;
    return { ...out, doneAt: Date.now(), tokens: chunks.length, done: events.at(-1) === "[DONE]" };
  } catch (err) {
    onArrived(); // no hang: the assertions on the answer report the failure
    return { ...out, error: String((err as Error).cause ?? err), doneAt: Date.now(), tokens: 0, done: false };
  }
}

/** Short completions, back to back, from `workers` clients alternating over the proxies. */
class Load {
  readonly answers: Answer[] = [];
  private running = true;
  private readonly loops: Promise<void>[];
  private readonly waiters: { n: number; resolve: () => void }[] = [];
  constructor(workers: number) {
    this.loops = Array.from({ length: workers }, (_, w) => this.loop(w));
  }
  private async loop(w: number): Promise<void> {
    for (let i = 0; this.running; i++) {
      this.answers.push(await complete((w + i) % proxies.length, 1, false));
      for (const x of this.waiters.filter((x) => this.answers.length >= x.n)) {
        this.waiters.splice(this.waiters.indexOf(x), 1);
        x.resolve();
      }
      await new Promise((r) => setTimeout(r, 20)); // pacing of the load, not a wait for an event
    }
  }
  /** Resolves once `n` answers came back. */
  answered(n: number): Promise<void> {
    if (this.answers.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
  async stop(): Promise<Answer[]> {
    this.running = false;
    await Promise.all(this.loops);
    return this.answers;
  }
}

const failures = (as: readonly Answer[]) => as.filter((a) => a.status !== 200 || a.error !== null);

/** Only replicas of `revision`, `n` of them, all READY with their endpoints: the update is over. */
const settledOn = (revision: number, n: number) => (s: Snapshot) => {
  const x = ofService(s, SERVICE);
  return (
    x.replicas.length === n &&
    x.replicas.every((r) => r.revision === revision && r.phase === "READY") &&
    x.endpoints.length === n &&
    x.endpoints.every((e) => e.revision === revision && !e.draining)
  );
};

/** Every long stream answered whole: all its tokens (and the closing chunk), then [DONE]. */
function whole(longs: { tokens: number; status: number | null; done: boolean; error: string | null }[]) {
  for (const s of longs) {
    expect(s).toMatchObject({ status: 200, done: true, error: null });
    expect(s.tokens).toBeGreaterThanOrEqual(LONG_TOKENS);
  }
}

/** The provisioner's log lines about drains of these replicas, once each has ended. */
async function drained(ids: number[]): Promise<Record<string, unknown>[]> {
  const prov = sys.service("provisioner");
  return Promise.all(
    ids.map(async (id) =>
      JSON.parse(
        await prov.waitForLine(
          new RegExp(`"service":"${SERVICE}","replica":${id},.*"msg":"replica (drained|drain ended)`),
          30_000,
        ),
      ),
    ),
  ).then((ls) => {
    console.log(ls.map((l) => `replica ${l.replica}: ${l.msg} after ${l.waited_ms} ms`).join("\n"));
    return ls;
  });
}

beforeAll(async () => {
  await sys.start("spec", "provisioner", "prober");
  proxies = await Promise.all(
    [0, 1].map(() =>
      startProxy(sys.nats.url, {
        YARD_PROXY_REPORT_MS: "200",
        YARD_DEFAULT_SERVICE: SERVICE,
        YARD_PROXY_HOLD_MAX: "0",
      }),
    ),
  );
  const up = await sys.yard(["up", sys.writeYaml("v1", yaml({ model: "model-v1" })), "--wait"]);
  expect(up.code, up.all).toBe(0);
  await sys.until(settledOn(1, 2), "revision 1: two replicas READY");
  events = startTs("cli/src/main.ts", ["events", SERVICE, "--follow", "--last", "0"], {
    NATS_URL: sys.nats.url,
  });
}, 180_000);
afterAll(async () => {
  await events?.stop();
  await Promise.all(proxies.map((p) => p.proc.stop(10_000)));
  await sys.dispose();
});

/** Under load with `streams` long streams: run `change`, wait for `settled`, stop the load. */
async function underLoad(change: () => Promise<void>, settled: (s: Snapshot) => boolean, what: string) {
  const load = new Load(2);
  // Some load first (answers from both clients), then every long stream taken by an engine, so
  // that the replicas have requests in flight when the change begins.
  await load.answered(4);
  let arrived = 0;
  let allArrived!: () => void;
  const inFlight = new Promise<void>((r) => {
    allArrived = r;
  });
  const streams = Array.from({ length: LONG_STREAMS }, (_, i) =>
    complete(i % proxies.length, LONG_TOKENS, true, () => {
      if (++arrived === LONG_STREAMS) allArrived();
    }),
  );
  await inFlight;
  const before = (await sys.until(() => true, "now")).replicas.filter((r) => r.service === SERVICE);
  await change();
  const after = await sys.until(settled, what, 120_000);
  const settledAt = Date.now();
  // Some answers after the change settled: they show which revision serves now.
  await load.answered(load.answers.length + 4);
  const answers = await load.stop();
  const longs = await Promise.all(streams);
  return { answers, longs, before, after: ofService(after, SERVICE).replicas, settledAt };
}

describe("zero-downtime changes (issue 10)", () => {
  it("rolling update under load: 0 requests lost, 0 streams cut, the old replicas drained once idle, then only the new model answers", async () => {
    const file = sys.writeYaml("v2", yaml({ model: "model-v2" }));
    const r = await underLoad(
      async () => {
        const u = await sys.yard(["update", SERVICE, file]);
        expect(u.code, u.all).toBe(0);
        expect(u.stdout).toMatch(/revision 2 published \(rolling update\)/);
      },
      settledOn(2, 2),
      "revision 2 alone, two READY",
    );
    expect(failures(r.answers)).toEqual([]);
    expect(r.answers.length).toBeGreaterThan(20);
    whole(r.longs);
    expect(r.longs.map((s) => s.model)).toEqual(Array(LONG_STREAMS).fill("model-v1"));
    expect(r.answers.filter((a) => a.sentAt > r.settledAt).every((a) => a.model === "model-v2")).toBe(true);
    expect(r.answers.some((a) => a.model === "model-v2")).toBe(true);
    // Each old replica drained: it waited for its streams, and was stopped as soon as they ended.
    const logs = await drained(r.before.map((x) => x.id));
    for (const l of logs) expect(l.msg).toMatch(/^replica drained/);
    // `yard events --follow` showed each old replica's drain, start and end, as it happened.
    for (const x of r.before) {
      await events.waitForLine(new RegExp(`replica\\.draining\\s+replica ${x.id}\\b`), 10_000);
      await events.waitForLine(new RegExp(`replica\\.drained\\s+replica ${x.id}\\b`), 10_000);
    }
    const status = await sys.yard(["status", SERVICE]);
    expect(status.stdout).toMatch(/^llm\s+2\s+2\s+READY\s+2\/2/m);
  }, 180_000);

  it("blue-green update under load: the old set serves until the new set is ready, then the new one alone, per proxy never back", async () => {
    const file = sys.writeYaml("v3", yaml({ model: "model-v3" }));
    const r = await underLoad(
      async () => {
        const u = await sys.yard(["update", SERVICE, file, "--mode", "blue_green"]);
        expect(u.code, u.all).toBe(0);
        expect(u.stdout).toMatch(/revision 3 published \(blue-green update\)/);
      },
      settledOn(3, 2),
      "revision 3 alone, two READY",
    );
    expect(failures(r.answers)).toEqual([]);
    whole(r.longs);
    expect(r.longs.map((s) => s.model)).toEqual(Array(LONG_STREAMS).fill("model-v2"));
    // Never split: a request sent after any answer of the new revision came back is answered by
    // the new revision too, through the same proxy or another.
    const firstNew = Math.min(...r.answers.filter((a) => a.model === "model-v3").map((a) => a.doneAt));
    expect(Number.isFinite(firstNew)).toBe(true);
    const late = r.answers.filter((a) => a.sentAt > firstNew);
    expect(late.length).toBeGreaterThan(0);
    expect(late.filter((a) => a.model !== "model-v3")).toEqual([]);
    const logs = await drained(r.before.map((x) => x.id));
    for (const l of logs) expect(l.msg).toMatch(/^replica drained/);
    const switched = sys
      .service("provisioner")
      .lines.filter((l) => /revisions taking traffic changed/.test(l));
    expect(switched.some((l) => /"mode":"blue_green","from":\[2\],"to":\[3\]/.test(l))).toBe(true);
    await events.waitForLine(/traffic\.switched/, 10_000);
  }, 180_000);

  it("yard down --replica-id under load: replaced first, then drained; 0 lost, 0 cut", async () => {
    const [victim] = ofService(await sys.until(settledOn(3, 2), "two READY"), SERVICE).replicas;
    const r = await underLoad(
      async () => {
        const d = await sys.yard(["down", SERVICE, "--replica-id", String(victim.id)]);
        expect(d.code, d.all).toBe(0);
        expect(d.stdout).toMatch(/Replacing replica \d+ of llm/);
      },
      (s) => settledOn(3, 2)(s) && !ofService(s, SERVICE).replicas.some((x) => x.id === victim.id),
      "the victim replaced",
    );
    expect(failures(r.answers)).toEqual([]);
    whole(r.longs);
    const [log] = await drained([victim.id]);
    expect(log.msg).toMatch(/^replica drained/);
  }, 180_000);

  it("scale-down under load: the surplus replica drains; 0 lost, 0 cut", async () => {
    const file = sys.writeYaml("v3-one", yaml({ model: "model-v3", replicas: 1 }));
    const r = await underLoad(
      async () => {
        const u = await sys.yard(["up", file]);
        expect(u.code, u.all).toBe(0);
      },
      settledOn(4, 1),
      "one replica left",
    );
    expect(failures(r.answers)).toEqual([]);
    whole(r.longs);
    const gone = r.before.filter((b) => !r.after.some((a) => a.id === b.id));
    expect(gone).toHaveLength(1);
    const [log] = await drained(gone.map((g) => g.id));
    expect(log.msg).toMatch(/^replica drained/);
  }, 180_000);

  it("an update whose replicas never become ready leaves the old revision serving, and says why", async () => {
    const bad = sys.writeYaml(
      "bad",
      yaml({ model: "model-bad", replicas: 1, probePath: "/no-such-path", initialDelay: 2 }),
    );
    const load = new Load(1);
    const u = await sys.yard(["update", SERVICE, bad]);
    expect(u.code, u.all).toBe(0);
    await sys.until(
      (s) =>
        ofService(s, SERVICE).replicas.some((x) => x.revision === 5 && x.phase === "FAILED_INITIAL_DELAY"),
      "revision 5 failed its initial delay",
      60_000,
    );
    await sys.service("provisioner").waitForLine(/"service":"llm","revision":5,.*"msg":"service halted: /);
    // Requests after the halt are still answered by revision 3: wait for a few more answers.
    await load.answered(load.answers.length + 4);
    const answers = await load.stop();
    expect(failures(answers)).toEqual([]);
    expect(answers.every((a) => a.model === "model-v3")).toBe(true);
    const status = await sys.yard(["status", SERVICE]);
    expect(status.stdout).toMatch(/^llm\s+5\s+4\s+READY\s+1\/1/m);
    expect(status.stdout).toMatch(/Service llm is halted: replica \d+ of revision 5 failed/);
  }, 120_000);

  it("a drain that outlasts YARD_DRAIN_TIMEOUT_S ends with SIGTERM and a logged reason", async () => {
    const good = sys.writeYaml("v6", yaml({ model: "model-v6", replicas: 1 }));
    const [old] = ofService(
      await sys.until((s) => ofService(s, SERVICE).endpoints.length === 1, "one endpoint"),
      SERVICE,
    ).replicas.filter((x: ReplicaRecord) => x.phase === "READY");
    // 3000 tokens at 10 ms: a 30 s stream, far past the 10 s drain timeout.
    // The update comes once the stream is on the engine (its headers arrived), not a guess later.
    let arrived!: () => void;
    const onEngine = new Promise<void>((r) => {
      arrived = r;
    });
    const endless = complete(0, 3000, true, () => arrived());
    await Promise.race([onEngine, endless]);
    const u = await sys.yard(["update", SERVICE, good]);
    expect(u.code, u.all).toBe(0);
    const line = JSON.parse(
      await sys
        .service("provisioner")
        .waitForLine(new RegExp(`"replica":${old.id},.*"msg":"replica drain ended: drain timed out`), 60_000),
    );
    expect(line.msg).toMatch(
      /drain timed out after 10 s \(YARD_DRAIN_TIMEOUT_S\) with 1 request\(s\) still in flight; sending SIGTERM/,
    );
    expect(line.in_flight).toBe(1);
    await sys.until(
      (s) => !s.replicas.some((x) => replicaKey(x.service, x.id) === replicaKey(SERVICE, old.id)),
      "the old replica gone",
    );
    const cut = await endless;
    expect(cut.done).toBe(false);
  }, 120_000);
});
