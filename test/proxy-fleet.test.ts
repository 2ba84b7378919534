import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Proc } from "@switchyard/testkit";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  accessLines,
  type ProxyProc,
  startEngine,
  startProxy,
  TestBus,
} from "../services/proxy/test/helpers.js";

// Issue 4 acceptance, end to end: a real nats-server, fake OpenAI engines (the vLLM stand-in)
// as replicas, three proxy processes. This test plays prober and spec service: it writes
// yard-endpoints / yard-services itself.
const KEY = "sk-fleet-SECRET-51d2";
const AUTH = `Bearer ${KEY}`;
const TOKEN_DELAY_MS = 40;
let bus: TestBus;
const engines: { proc: Proc; url: string }[] = [];
let proxies: ProxyProc[] = [];
const agent = new Agent({ connections: 16 });
/** Extra processes a test starts; stopped in afterAll even when the test failed half-way. */
const extra: Proc[] = [];

async function call(
  p: ProxyProc,
  path: string,
  host: string,
  init: { method?: string; headers?: Record<string, string> | string[]; body?: string } = {},
) {
  const headers = Array.isArray(init.headers)
    ? ["host", host, ...init.headers]
    : { host, ...(init.headers ?? {}) };
  const res = await request(`${p.url}${path}`, {
    method: (init.method ?? "GET") as "GET",
    headers,
    body: init.body,
    dispatcher: agent,
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}
const chat = (stream = false, max_tokens = 4) =>
  JSON.stringify({ model: "fake-model", messages: [{ role: "user", content: "hi" }], stream, max_tokens });

beforeAll(async () => {
  bus = await TestBus.start();
  engines.push(
    ...(await Promise.all(
      [1, 2, 3].map(() => startEngine(KEY, ["--token-delay-ms", String(TOKEN_DELAY_MS)])),
    )),
  );
  await bus.putService("llm", "least_load");
  for (const [i, e] of engines.entries()) await bus.putEndpoint("llm", i + 1, e.url, "L4");
  proxies = await Promise.all(
    [1, 2, 3].map(() => startProxy(bus.nats.url, { YARD_PROXY_ACCESS_LOG: "all" })),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([...proxies.map((p) => p.proc), ...extra].map((p) => p.stop()));
  await Promise.all(engines.map((e) => e.proc.stop()));
  await agent.close();
  await bus?.close();
});

describe("requests through every proxy", () => {
  it("the right token gets 200 from /v1/chat/completions on every proxy", async () => {
    for (const p of proxies) {
      const r = await call(p, "/v1/chat/completions", "llm.localhost", {
        method: "POST",
        headers: { authorization: AUTH, "content-type": "application/json" },
        body: chat(),
      });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body.toString()).object).toBe("chat.completion");
    }
  });

  it("no token or a wrong one gets the engine's own 401, byte for byte", async () => {
    const direct = await request(`${engines[0].url}/v1/models`, {
      headers: { authorization: "Bearer nope" },
    });
    const directBody = Buffer.from(await direct.body.arrayBuffer());
    expect(direct.statusCode).toBe(401);
    for (const p of proxies) {
      for (const headers of [{}, { authorization: "Bearer nope" }] as Record<string, string>[]) {
        const r = await call(p, "/v1/models", "llm.localhost", { headers });
        expect(r.status).toBe(401);
        expect(r.body.equals(directBody)).toBe(true);
        expect(r.headers["content-type"]).toBe(direct.headers["content-type"]);
      }
    }
  });

  it("client headers (repeated, odd but legal values) reach the replica unchanged", async () => {
    const sent = [
      "Authorization",
      AUTH,
      "X-Trace",
      "one",
      "X-Trace",
      "two",
      "Accept-Language",
      "de-CH, fr;q=0.9,  en;q=0.8",
      "X-Json",
      '{"a": [1, 2], "b": "c;d"}',
      "X-Latin1",
      "caf\u00e9",
    ];
    for (const p of proxies) {
      const r = await call(p, "/echo/x?y=1&y=2", "llm.localhost", {
        method: "PUT",
        headers: sent,
        body: "raw body",
      });
      const echo = JSON.parse(r.body.toString()) as {
        method: string;
        path: string;
        headers: string[];
        body: string;
      };
      expect(echo).toMatchObject({ method: "PUT", path: "/echo/x?y=1&y=2", body: "raw body" });
      const h = echo.headers;
      const got = h.flatMap((k, i) =>
        i % 2 === 0 && /^(authorization|x-|accept-language)/i.test(k) ? [k, h[i + 1]] : [],
      );
      // undici lower-cases nothing and keeps order; names arrive as the client sent them.
      expect(got.map((v, i) => (i % 2 ? v : v.toLowerCase()))).toEqual(
        sent.map((v, i) => (i % 2 ? v : v.toLowerCase())),
      );
    }
  });

  it("SSE chunks arrive one by one, as the engine produces them", async () => {
    // Lock-step: the upstream writes chunk i+1 only once this client has read chunk i through
    // the proxy. A proxy that buffers (whole body, or until some size) never delivers chunk 1,
    // so the stream stalls and the test fails; no timing is measured, so load cannot fake it.
    const chunks = 6;
    let next: () => void = () => {};
    const upstream = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      let i = 0;
      const send = () => {
        next = () => {};
        if (i === chunks) return void res.end("data: [DONE]\n\n");
        res.write(`data: {"n":${i++}}\n\n`);
        next = send;
      };
      send();
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    try {
      const { port } = upstream.address() as AddressInfo;
      const rev = await bus.putEndpoint("llm-lockstep", 1, `http://127.0.0.1:${port}`);
      await bus.putService("llm-lockstep", "round_robin");
      await proxies[1].applied(rev);
      await proxies[1].logged(/"service":"llm-lockstep".*"msg":"service route changed"/);
      const res = await request(`${proxies[1].url}/v1/chat/completions`, {
        method: "POST",
        headers: { host: "llm-lockstep.localhost", authorization: AUTH, "content-type": "application/json" },
        body: chat(true, chunks),
        dispatcher: agent,
      });
      expect(res.headers["content-type"]).toMatch(/text\/event-stream/);
      const seen: number[] = [];
      let text = "";
      for await (const c of res.body) {
        text += c;
        for (const m of text.matchAll(/"n":(\d+)/g))
          if (!seen.includes(Number(m[1]))) seen.push(Number(m[1]));
        next();
      }
      expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
      expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    } finally {
      await bus.deleteEndpoint("llm-lockstep", 1);
      await new Promise((r) => upstream.close(r));
    }
  });
});

describe("route changes", () => {
  it("a new replica is routed by all 3 proxies without restart; an unready (deleted) one is not", async () => {
    await bus.putService("fresh", "round_robin");
    await Promise.all(proxies.map((p) => p.logged(/"service":"fresh".*"msg":"service route changed"/)));
    for (const p of proxies)
      expect(
        (await call(p, "/v1/models", "fresh.localhost", { headers: { authorization: AUTH } })).status,
      ).toBe(503);
    const rev = await bus.putEndpoint("fresh", 1, engines[2].url);
    await Promise.all(proxies.map((p) => p.applied(rev)));
    for (const p of proxies)
      expect(
        (await call(p, "/v1/models", "fresh.localhost", { headers: { authorization: AUTH } })).status,
      ).toBe(200);
    const del = await bus.deleteEndpoint("fresh", 1);
    await Promise.all(proxies.map((p) => p.applied(del)));
    for (const p of proxies)
      expect(
        (await call(p, "/v1/models", "fresh.localhost", { headers: { authorization: AUTH } })).status,
      ).toBe(503);
  });

  it("a proxy started after the replicas routes correctly on its first request", async () => {
    const late = await startProxy(bus.nats.url);
    extra.push(late.proc);
    try {
      const r = await call(late, "/v1/models", "llm.localhost", { headers: { authorization: AUTH } });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body.toString()).data[0].id).toBe("fake-model");
    } finally {
      await late.proc.stop();
    }
  });
});

/** Sequential GET loops through all proxies until `stop()`; counts statuses. */
function steadyLoad(workers: number) {
  let running = true;
  const statuses: number[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const record = (s: number) => {
    statuses.push(s);
    for (const w of waiters.filter((x) => statuses.length >= x.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; running; i++) {
      const p = proxies[(w + i) % proxies.length];
      try {
        record((await call(p, "/v1/models", "llm.localhost", { headers: { authorization: AUTH } })).status);
      } catch {
        record(-1);
      }
    }
  });
  return {
    /** Resolves once `n` more requests have finished. */
    until: (n: number) => new Promise<void>((resolve) => waiters.push({ n: statuses.length + n, resolve })),
    async stop() {
      running = false;
      await Promise.all(loops);
      return statuses;
    },
  };
}

describe("failures", () => {
  it("kill -9 of a replica under a steady request loop costs 0 failed idempotent requests", async () => {
    const victim = await startEngine(KEY);
    extra.push(victim.proc);
    const rev = await bus.putEndpoint("llm", 9, victim.url);
    await Promise.all(proxies.map((p) => p.applied(rev)));
    const load = steadyLoad(6);
    await load.until(150);
    process.kill(victim.proc.child.pid!, "SIGKILL");
    await victim.proc.exited;
    await load.until(300);
    const statuses = await load.stop();
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // The prober would now delete its endpoint; the proxies had already ejected it.
    const ejected = await Promise.all(
      proxies.map(
        async (p) =>
          (await p.routes()).services.find((s) => s.name === "llm")!.replicas.find((r) => r.id === 9)!
            .ejected,
      ),
    );
    expect(ejected).toContain(true);
    const del = await bus.deleteEndpoint("llm", 9);
    await Promise.all(proxies.map((p) => p.applied(del)));
  });

  it("least_load: after 1,000 requests with replica errors and client aborts, every in-flight count is 0", async () => {
    const flaky = await startEngine(KEY, ["--fail-after", "120", "--token-delay-ms", "20"]);
    extra.push(flaky.proc);
    const rev = await bus.putEndpoint("llm", 7, flaky.url);
    await Promise.all(proxies.map((p) => p.applied(rev)));
    const before = proxies.map((p) => p.proc.lines.filter((l) => l.includes('"msg":"request"')).length);
    const sentTo = [0, 0, 0];
    let n = 0;
    const one = async (i: number) => {
      const pi = i % 3;
      const p = proxies[pi];
      sentTo[pi]++;
      const kind = i % 10;
      try {
        if (kind < 6) await call(p, "/v1/models", "llm.localhost", { headers: { authorization: AUTH } });
        else if (kind < 8) {
          // A streaming completion the client abandons after its first chunk.
          const res = await request(`${p.url}/v1/chat/completions`, {
            method: "POST",
            headers: { host: "llm.localhost", authorization: AUTH, "content-type": "application/json" },
            body: chat(true, 50),
            dispatcher: agent,
          });
          const it = res.body[Symbol.asyncIterator]();
          await it.next();
          res.body.destroy();
        } else await call(p, "/v1/models", "llm.localhost", { headers: { authorization: "Bearer wrong" } });
      } catch {
        // a refused stream or a cut body: what matters is the proxy's bookkeeping
      }
    };
    const workers = Array.from({ length: 20 }, async () => {
      while (n < 1000) await one(n++);
    });
    await Promise.all(workers);
    await flaky.proc.exited; // it crashed on purpose after 120 answers
    // One access line per finished request, written after its lease was released.
    await Promise.all(proxies.map((p, i) => accessLines(p, before[i] + sentTo[i])));
    for (const p of proxies) {
      const llm = (await p.routes()).services.find((s) => s.name === "llm")!;
      expect(llm.replicas.map((r) => r.in_flight)).toEqual(llm.replicas.map(() => 0));
    }
    const del = await bus.deleteEndpoint("llm", 7);
    await Promise.all(proxies.map((p) => p.applied(del)));
  });

  it("stopping and restarting nats-server under load loses no request, and the proxies converge after", async () => {
    const load = steadyLoad(4);
    await load.until(50);
    await bus.nats.stop();
    await load.until(100); // served from the last table while the bus is down
    await bus.nats.restart();
    await load.until(50);
    const statuses = await load.stop();
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // A change made after the outage reaches every proxy (watches resumed).
    const rev = await bus.putEndpoint("fresh", 2, engines[0].url);
    await Promise.all(proxies.map((p) => p.applied(rev)));
    for (const p of proxies)
      expect(
        (await call(p, "/v1/models", "fresh.localhost", { headers: { authorization: AUTH } })).status,
      ).toBe(200);
  });
});

describe("shutdown and secrets", () => {
  it("SIGTERM drains an in-flight stream to [DONE] and exits 0", async () => {
    const p = proxies[2];
    const res = await request(`${p.url}/v1/chat/completions`, {
      method: "POST",
      headers: { host: "llm.localhost", authorization: AUTH, "content-type": "application/json" },
      body: chat(true, 10),
      dispatcher: agent,
    });
    const it = res.body[Symbol.asyncIterator]();
    let text = String((await it.next()).value);
    p.proc.child.kill("SIGTERM");
    for (let c = await it.next(); !c.done; c = await it.next()) text += c.value;
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(await p.proc.exited).toBe(0);
  });

  it("no proxy ever logged the token", () => {
    for (const p of proxies) {
      expect(p.proc.lines.length).toBeGreaterThan(0);
      expect(p.proc.lines.join("\n")).not.toContain(KEY);
    }
  });
});
