import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import { connect } from "node:net";
import type { LoadReport } from "@switchyard/contracts";
import { freePort } from "@switchyard/testkit";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoadReports, type ProxyProc, readUntil, startProxy, TestBus, until } from "./helpers.js";
import { Upstream } from "./upstream.js";

// Issue 9, items 1 and 3: what the autoscaler hears from real proxy processes on
// `yard.load` (batched; a real nats-server), and what a client of a service idling at zero
// replicas notices.
const REPORT_MS = 200;
const BODY_TIMEOUT_MS = 300;
const HOLD_TIMEOUT_MS = 1_000;
let bus: TestBus;
let reports: LoadReports;
/** Reports every service every REPORT_MS (its heartbeat is its interval). */
let p1: ProxyProc;
/** Reports once a minute: a report within the test's time is a demand report. */
let p2: ProxyProc;
/** Holds at most 2 requests per service, each for HOLD_TIMEOUT_MS. */
let p3: ProxyProc;
const a = new Upstream("a");

const held = async (p: ProxyProc, service: string) =>
  (await p.routes()).services.find((s) => s.name === service)?.held ?? 0;
const heldIs = (p: ProxyProc, service: string, n: number) =>
  until(
    `${service} held on ${p.url}`,
    () => held(p, service),
    (v) => v === n,
  );
const call = (p: ProxyProc, path: string, host: string, o: Parameters<typeof request>[1] = {}) =>
  request(`${p.url}${path}`, { ...o, headers: { host, ...(o.headers as Record<string, string>) } });

beforeAll(async () => {
  bus = await TestBus.start();
  reports = new LoadReports(bus.nc);
  await a.start();
  [p1, p2, p3] = await Promise.all([
    // A replica that refused a connection stays out: the retry test's count stays exact.
    startProxy(bus.nats.url, {
      YARD_PROXY_REPORT_MS: String(REPORT_MS),
      YARD_PROXY_REPORT_HEARTBEAT_MS: String(REPORT_MS),
      YARD_PROXY_EJECT_MS: "600000",
    }),
    startProxy(bus.nats.url, {
      YARD_PROXY_REPORT_MS: "60000",
      YARD_PROXY_HOLD_TIMEOUT_MS: "60000",
      YARD_PROXY_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS),
      YARD_PROXY_ACCESS_LOG: "all",
    }),
    startProxy(bus.nats.url, {
      YARD_PROXY_HOLD_MAX: "2",
      YARD_PROXY_HOLD_TIMEOUT_MS: String(HOLD_TIMEOUT_MS),
      YARD_PROXY_ACCESS_LOG: "all",
    }),
  ]);
});
afterAll(async () => {
  reports?.stop();
  await Promise.all([p1, p2, p3].map((p) => p?.proc.stop()));
  await a.stop();
  await bus?.close();
});

describe("load reports", () => {
  it("count each request once, retries not included, every interval with consecutive seq", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    await bus.putService("counted", "round_robin");
    await bus.putEndpoint("counted", 1, dead);
    const rev = await bus.putEndpoint("counted", 2, a.url);
    await p1.applied(rev);
    for (let i = 0; i < 5; i++) {
      const r = await call(p1, "/", "counted.localhost");
      expect([r.statusCode, await r.body.text()]).toEqual([200, "hello from a"]);
    }
    // One of the first two requests went to the replica that refuses and was retried on `a`.
    const metrics = await (await fetch(`${p1.admin}/metrics`)).text();
    expect(metrics).toMatch(/yard_proxy_retries_total\{service="counted"\} 1\b/);
    // Everything was counted before its response: the next report after this one covers it.
    const last = Math.max(0, ...reports.of(p1.id, "counted").map((r) => r.seq));
    await reports.wait(
      "after the requests",
      (r) => r.proxy_id === p1.id && r.service === "counted" && r.seq > last,
    );
    const mine = reports.of(p1.id, "counted");
    expect(mine.reduce((n, r) => n + r.requests, 0)).toBe(5);
    expect(mine.map((r) => r.seq)).toEqual(mine.map((_, i) => i + 1));
    expect(mine.every((r) => r.interval_ms === REPORT_MS && r.held === 0)).toBe(true);
    expect(reports.malformed).toEqual([]);
  });

  it("send a tick's reports of every service as one message", async () => {
    await bus.putService("counted-b", "round_robin");
    await p1.applied(await bus.putEndpoint("counted-b", 1, a.url));
    const from = reports.all.length;
    await reports.wait("for counted-b", (r) => r.proxy_id === p1.id && r.service === "counted-b", from);
    const next = await reports.wait(
      "for counted-b, a tick later",
      (r) => r.proxy_id === p1.id && r.service === "counted-b",
      reports.all.length,
    );
    const batch = reports.batches.find((b) => b.includes(next));
    expect(
      batch
        ?.filter((r) => r.proxy_id === p1.id)
        .map((r) => r.service)
        .sort(),
    ).toEqual(["counted", "counted-b"]);
    expect(reports.malformed).toEqual([]);
  });

  it("carry the in-flight count per replica while a stream runs, and 0 once it ended", async () => {
    const res = await call(p1, "/hold", "counted.localhost");
    const body = res.body[Symbol.asyncIterator]();
    expect(String((await body.next()).value)).toBe("first\n");
    const from = reports.all.length;
    const during = await reports.wait(
      "with the stream in flight",
      (r) => r.proxy_id === p1.id && r.service === "counted" && r.in_flight["2"] === 1,
      from,
    );
    expect(during.in_flight).toEqual({ "1": 0, "2": 1 });
    a.gates.shift()!();
    for (let c = await body.next(); !c.done; c = await body.next());
    const after = reports.all.length;
    const ended = await reports.wait(
      "after the stream",
      (r) => r.proxy_id === p1.id && r.service === "counted",
      after,
    );
    expect(ended.in_flight).toEqual({ "1": 0, "2": 0 });
    // Every proxy reports every service it routes, zeros included.
    await reports.wait("from the other proxy", (r) => r.proxy_id === p3.id && r.service === "counted");
  });

  it("a quiet service is reported once per heartbeat, a busy one every interval", async () => {
    const HEARTBEAT_MS = 1_000;
    const p4 = await startProxy(bus.nats.url, {
      YARD_PROXY_REPORT_MS: "100",
      YARD_PROXY_REPORT_HEARTBEAT_MS: String(HEARTBEAT_MS),
    });
    try {
      await bus.putService("beat", "round_robin");
      await p4.applied(await bus.putEndpoint("beat", 1, a.url));
      const mine = () => reports.of(p4.id, "beat");
      const at = (r: LoadReport) => Date.parse(r.sent_at);
      // Quiet: after the reports that follow its first, a gap of at least half a heartbeat
      // (less half an interval: its spread) between two reports, twice.
      const beat = (from: number) =>
        reports.wait(
          "a heartbeat of the quiet service",
          (r) => {
            if (r.proxy_id !== p4.id || r.service !== "beat") return false;
            const prev = mine().find((x) => x.seq === r.seq - 1);
            return prev !== undefined && at(r) - at(prev) >= HEARTBEAT_MS / 2 - 50;
          },
          from,
        );
      const first = await beat(0);
      const second = await beat(reports.all.indexOf(first) + 1);
      expect(second.seq).toBe(first.seq + 1); // nothing between two heartbeats
      expect([first.next_ms, second.next_ms, first.requests]).toEqual([HEARTBEAT_MS, HEARTBEAT_MS, 0]);
      // Busy: the request is in the next report (before the next heartbeat), which promises
      // the next within an interval; the one after it is quiet again and says so.
      const r = await call(p4, "/", "beat.localhost");
      expect(r.statusCode).toBe(200);
      await r.body.text();
      const from = reports.all.length;
      const busy = await reports.wait(
        "the request",
        (x) => x.proxy_id === p4.id && x.service === "beat",
        from,
      );
      expect([busy.requests, busy.next_ms]).toEqual([1, 100]);
      const after = await reports.wait(
        "the report after it",
        (x) => x.proxy_id === p4.id && x.service === "beat" && x.seq === busy.seq + 1,
        from,
      );
      expect([after.requests, after.next_ms]).toEqual([0, HEARTBEAT_MS]);
      expect(mine().map((x) => x.seq)).toEqual(mine().map((_, i) => i + 1));
    } finally {
      await p4.proc.stop();
    }
  });
});

describe("scale-from-zero", () => {
  it("holds requests at zero replicas, reports demand at once, and answers them in arrival order on the first replica", async () => {
    await bus.putIdleService("idle");
    await p2.logged(/"service":"idle".*"msg":"service route changed"/);
    const seen: string[] = [];
    const onRequest = (req: IncomingMessage) => {
      const n = req.headers["x-n"];
      if (typeof n === "string") seen.push(n);
    };
    a.on("request", onRequest);
    try {
      const from = reports.all.length;
      const t0 = performance.now();
      const r1 = call(p2, "/echo", "idle.localhost", { headers: { "x-n": "1" } });
      const demand = await reports.wait(
        "with held > 0",
        (r) => r.proxy_id === p2.id && r.service === "idle" && r.held > 0,
        from,
      );
      // The interval is a minute: this is the early report, sent when the request was held.
      expect(performance.now() - t0).toBeLessThan(10_000);
      expect(demand).toMatchObject({ seq: 1, requests: 1, held: 1, in_flight: {} });
      // Alone in its batch: it does not wait for the tick's other reports.
      expect(reports.batches.find((b) => b.includes(demand))).toEqual([demand]);
      await heldIs(p2, "idle", 1);
      const r2 = call(p2, "/echo", "idle.localhost", {
        method: "POST",
        headers: { "x-n": "2", "content-type": "text/plain" },
        body: "second",
      });
      await heldIs(p2, "idle", 2);
      // A client that leaves while held is dropped: nothing reaches the replica for it.
      const ac = new AbortController();
      const gone = call(p2, "/echo", "idle.localhost", {
        headers: { "x-n": "gone" },
        signal: ac.signal,
      }).catch((e: Error) => e);
      await heldIs(p2, "idle", 3);
      ac.abort();
      expect(await gone).toBeInstanceOf(Error);
      await heldIs(p2, "idle", 2);
      const r3 = call(p2, "/echo", "idle.localhost", { headers: { "x-n": "3" } });
      await heldIs(p2, "idle", 3);
      // An Upgrade waits in the same line.
      const ws = connect(Number(new URL(p2.url).port), "127.0.0.1");
      await once(ws, "connect");
      ws.write(
        "GET /ws HTTP/1.1\r\nHost: idle.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-N: 4\r\n\r\n",
      );
      await heldIs(p2, "idle", 4);
      // Held longer than the body timeout: the wait is ours, the POST's body is not timed meanwhile.
      await new Promise((r) => setTimeout(r, BODY_TIMEOUT_MS + 200));
      expect(await held(p2, "idle")).toBe(4);

      await bus.putEndpoint("idle", 1, a.url);
      const [x1, x2, x3] = await Promise.all([r1, r2, r3]);
      expect([x1.statusCode, x2.statusCode, x3.statusCode]).toEqual([200, 200, 200]);
      expect(await x1.body.json()).toMatchObject({ method: "GET", url: "/echo" });
      expect(await x2.body.json()).toMatchObject({ method: "POST", body: "second" });
      await x3.body.dump();
      const head = await readUntil(ws, (g) => g.includes("\r\n\r\n"));
      expect(head).toMatch(/^HTTP\/1\.1 101 /);
      ws.write("hi");
      expect(await readUntil(ws, (g) => g.includes("echo:hi"))).toContain("echo:hi");
      ws.destroy();
      expect(seen).toEqual(["1", "2", "3", "4"]);
      expect(await held(p2, "idle")).toBe(0);
      const metrics = await (await fetch(`${p2.admin}/metrics`)).text();
      expect(metrics).not.toMatch(/yard_proxy_requests_held\{service="idle"\} [1-9]/);
    } finally {
      a.off("request", onRequest);
    }
  });

  it("a full hold is 503 at once; a request held past the timeout is 503; both with Retry-After", async () => {
    await bus.putIdleService("cold");
    await p3.logged(/"service":"cold".*"msg":"service route changed"/);
    const t0 = performance.now();
    const h1 = call(p3, "/", "cold.localhost");
    const h2 = call(p3, "/", "cold.localhost");
    await heldIs(p3, "cold", 2);
    const metrics = await (await fetch(`${p3.admin}/metrics`)).text();
    expect(metrics).toMatch(/yard_proxy_requests_held\{service="cold"\} 2\b/);

    const full = await call(p3, "/", "cold.localhost");
    expect(full.statusCode).toBe(503);
    expect(full.headers["retry-after"]).toBe("1");
    expect(await full.body.json()).toMatchObject({ code: "SY_ERR_NO_READY_REPLICA" });
    expect(performance.now() - t0).toBeLessThan(HOLD_TIMEOUT_MS);

    for (const r of await Promise.all([h1, h2])) {
      expect(r.statusCode).toBe(503);
      expect(r.headers["retry-after"]).toBe("1");
      expect(await r.body.json()).toMatchObject({ code: "SY_ERR_NO_READY_REPLICA" });
    }
    expect(performance.now() - t0).toBeGreaterThanOrEqual(HOLD_TIMEOUT_MS * 0.9);
    expect(await held(p3, "cold")).toBe(0);
    await p3.logged(/"error":"hold_full"/);
    await p3.logged(/"error":"hold_timeout"/);
  });

  it("SIGTERM answers a held request 503 and exits 0", async () => {
    const h = call(p3, "/", "cold.localhost");
    await heldIs(p3, "cold", 1);
    p3.proc.child.kill("SIGTERM");
    const r = await h;
    expect(r.statusCode).toBe(503);
    expect(r.headers.connection).toBe("close");
    expect(await r.body.json()).toMatchObject({ code: "SY_ERR_NO_READY_REPLICA" });
    expect(await p3.proc.exited).toBe(0);
  });
});
