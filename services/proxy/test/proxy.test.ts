import { once } from "node:events";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { Subjects } from "@switchyard/contracts";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProxyProc, startProxy, TestBus } from "./helpers.js";
import { Upstream } from "./upstream.js";

// One real proxy process against a real nats-server, with node:http replicas this file controls
// (the fleet e2e in test/proxy-fleet.test.ts uses fake-engine replicas).
let bus: TestBus;
let proxy: ProxyProc;
const a = new Upstream("a");
const b = new Upstream("b");
const TOKEN = "Bearer sk-proxy-test-SECRET-7f3a";

const get = (path: string, host: string, headers: Record<string, string> = {}) =>
  request(`${proxy.url}${path}`, { headers: { host, ...headers } });

beforeAll(async () => {
  bus = await TestBus.start();
  await Promise.all([a.start(), b.start()]);
  await bus.putService("alpha", "least_load");
  await bus.putService("empty", "round_robin");
  await bus.putEndpoint("alpha", 1, a.url);
  proxy = await startProxy(bus.nats.url, { YARD_PROXY_ACCESS_LOG: "all", LOG_LEVEL: "debug" });
});
afterAll(async () => {
  await proxy?.proc.stop();
  await Promise.all([a.stop(), b.stop()]);
  await bus?.close();
});

describe("routing", () => {
  it("routes by Host; an unknown service is 404, one without replicas 503 with Retry-After", async () => {
    const ok = await get("/", "alpha.localhost:8080", { authorization: TOKEN });
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.text()).toBe("hello from a");

    const unknown = await get("/", "nope.localhost");
    expect(unknown.statusCode).toBe(404);
    expect(await unknown.body.json()).toMatchObject({ code: "SY_ERR_UNKNOWN_SERVICE" });

    const empty = await get("/", "empty.localhost");
    expect(empty.statusCode).toBe(503);
    expect(empty.headers["retry-after"]).toBe("1");
    expect(await empty.body.json()).toMatchObject({ code: "SY_ERR_NO_READY_REPLICA" });

    // Two services and a Host that names none: nothing to fall back to.
    const bare = await get("/", "127.0.0.1");
    expect(bare.statusCode).toBe(404);
    await bare.body.dump();
  });
});

describe("forwarding", () => {
  it("passes request headers verbatim (repeats, odd values, Authorization) and drops hop-by-hop ones", async () => {
    const sent = [
      "Authorization",
      TOKEN,
      "X-Multi",
      "one",
      "x-multi",
      "two,  three", // inner whitespace is part of the value (edge OWS is not)
      "X-Odd",
      'a=b; c="d, e";  f',
      "Connection",
      "X-Hop",
      "X-Hop",
      "must-not-pass",
    ];
    // A raw request: undici/node clients would normalise Connection themselves.
    const sock = connect(Number(new URL(proxy.url).port), "127.0.0.1");
    await once(sock, "connect");
    const head = ["POST /echo?q=1&q=2 HTTP/1.1", "Host: alpha.localhost", "Content-Length: 7"];
    sent[sent.indexOf("X-Hop")] = "close, X-Hop"; // close: the proxy answers, then ends the socket
    for (let i = 0; i < sent.length; i += 2) head.push(`${sent[i]}: ${sent[i + 1]}`);
    sock.write(`${head.join("\r\n")}\r\n\r\npayload`);
    let raw = "";
    for await (const c of sock) raw += c;
    const res = { body: { json: async () => JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4)) } };
    const echo = (await res.body.json()) as { method: string; url: string; headers: string[]; body: string };
    expect(echo.method).toBe("POST");
    expect(echo.url).toBe("/echo?q=1&q=2");
    expect(echo.body).toBe("payload");
    const pairs = (h: string[]) => h.flatMap((_, i) => (i % 2 ? [] : [[h[i], h[i + 1]]]));
    const got = pairs(echo.headers).filter(([k]) => /^(authorization|x-)/i.test(k));
    expect(got).toEqual([
      ["Authorization", TOKEN],
      ["X-Multi", "one"],
      ["x-multi", "two,  three"],
      ["X-Odd", 'a=b; c="d, e";  f'],
    ]);
    // Host is the replica's; the original goes nowhere (X-Forwarded-* off by default).
    expect(pairs(echo.headers).find(([k]) => k.toLowerCase() === "host")?.[1]).toBe(new URL(a.url).host);
  });

  it("returns repeated Set-Cookie and odd header values verbatim", async () => {
    const req = httpRequest(`${proxy.url}/cookies`, { headers: { host: "alpha.localhost" } });
    req.end();
    const [res] = (await once(req, "response")) as [import("node:http").IncomingMessage];
    res.resume();
    const raw = res.rawHeaders;
    const cookies = raw.flatMap((v, i) => (i % 2 === 1 && /^set-cookie$/i.test(raw[i - 1]) ? [v] : []));
    expect(cookies).toEqual(["a=1; Path=/; HttpOnly", "b=two; Max-Age=60"]);
    expect(res.headers["x-odd"]).toBe('v;  with  spaces, and "quotes"');
  });

  it("streams a large upload: the replica gets bytes before the client sent them all", async () => {
    const size = 8 * 1024 * 1024; // above YARD_PROXY_REPLAY_MAX_BYTES: streamed, not buffered
    const req = httpRequest(`${proxy.url}/upload`, {
      method: "PUT",
      headers: { host: "alpha.localhost", "content-length": String(size) },
    });
    const arrived = once(a, "upload-bytes");
    req.write(Buffer.alloc(64 * 1024, 1));
    await arrived; // a buffering proxy would wait for the rest: this would never resolve
    req.end(Buffer.alloc(size - 64 * 1024, 2));
    const [res] = (await once(req, "response")) as [import("node:http").IncomingMessage];
    let body = "";
    for await (const c of res) body += c;
    expect(body).toBe(String(size));
  });

  it("relays SSE chunks as they come", async () => {
    const res = await get("/sse", "alpha.localhost");
    const it = res.body[Symbol.asyncIterator]();
    const first = await it.next();
    expect(String(first.value)).toBe("data: 1\n\n"); // arrived while the replica still holds the stream
    a.gates.shift()!();
    const rest = await it.next();
    expect(String(rest.value)).toBe("data: 2\n\n");
  });

  it("a stream's headers reach the client when the replica sends them, before its first chunk", async () => {
    const res = await get("/queued", "alpha.localhost");
    // get() resolved with the headers while the replica still holds the body back.
    expect([res.statusCode, res.headers["content-type"]]).toEqual([200, "text/event-stream"]);
    a.gates.shift()!();
    expect(await res.body.text()).toBe("data: 1\n\n");
  });

  it("a client that disconnects aborts the upstream request and frees its in-flight slot", async () => {
    const res = await get("/hold", "alpha.localhost");
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    const closed = once(a, "stream-closed");
    res.body.destroy();
    await closed; // the replica saw its connection go: generation would stop here
    a.gates.shift(); // nothing left to release
    const routes = await proxy.routes();
    const alpha = routes.services.find((s) => s.name === "alpha")!;
    expect(alpha.replicas.map((r) => r.in_flight)).toEqual([0]);
  });

  it("passes a WebSocket upgrade through both ways", async () => {
    const sock = connect(Number(new URL(proxy.url).port), "127.0.0.1");
    await once(sock, "connect");
    sock.write(
      "GET /ws HTTP/1.1\r\nHost: alpha.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    let got = "";
    const until = (re: RegExp) =>
      new Promise<void>((resolve) => {
        const on = (d: Buffer) => {
          got += d.toString();
          if (re.test(got)) {
            sock.off("data", on);
            resolve();
          }
        };
        sock.on("data", on);
      });
    await until(/\r\n\r\n/);
    expect(got).toMatch(/^HTTP\/1.1 101 /);
    expect(got).toMatch(/X-Replica: a/);
    sock.write("ping");
    await until(/echo:ping/);
    sock.destroy();
  });
});

describe("failures", () => {
  it("a refused connection is retried on another replica; the dead one is ejected and the prober hinted", async () => {
    const dead = new Upstream("dead");
    await dead.start();
    const deadUrl = dead.url;
    await dead.stop(); // nothing listens there now: connect → ECONNREFUSED
    await bus.putService("beta", "round_robin");
    await proxy.logged(/"service":"beta".*"msg":"service route changed"/);
    await bus.putEndpoint("beta", 1, b.url);
    const rev = await bus.putEndpoint("beta", 2, deadUrl);
    await proxy.applied(rev);
    const hints: string[] = [];
    const sub = bus.nc.subscribe(Subjects.probeHint);
    await bus.nc.flush(); // the server knows the subscription before any request goes out
    const hinted = (async () => {
      for await (const m of sub) {
        hints.push(m.string());
        return;
      }
    })();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await get("/", "beta.localhost");
      statuses.push(r.statusCode);
      await r.body.dump();
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    await hinted;
    expect(JSON.parse(hints[0])).toMatchObject({ service: "beta", replica_id: 2, url: deadUrl });
    const beta = (await proxy.routes()).services.find((s) => s.name === "beta")!;
    expect(beta.replicas.find((r) => r.id === 2)?.ejected).toBe(true);
    const metrics = await (await fetch(`${proxy.admin}/metrics`)).text();
    expect(metrics).toMatch(/yard_proxy_ejections_total\{service="beta"\} 1/);
    expect(metrics).toMatch(/yard_proxy_retries_total\{service="beta"\} [1-9]/);
  });

  it("a 500 and a reset before headers reach the client as errors without leaking in-flight", async () => {
    const fail = await get("/fail", "alpha.localhost");
    expect(fail.statusCode).toBe(500);
    expect(await fail.body.text()).toBe("boom");
    // alpha has one replica: the reset is retried nowhere else and becomes a 502.
    const reset = await get("/reset", "alpha.localhost");
    expect(reset.statusCode).toBe(502);
    expect(await reset.body.json()).toMatchObject({ code: "SY_ERR_UPSTREAM" });
    const alpha = (await proxy.routes()).services.find((s) => s.name === "alpha")!;
    expect(alpha.replicas.map((r) => r.in_flight)).toEqual([0]);
  });
});

describe("observability", () => {
  it("serves metrics, health and readiness; logs requests without any header value", async () => {
    const m = await (await fetch(`${proxy.admin}/metrics`)).text();
    expect(m).toMatch(/yard_proxy_requests_total\{service="alpha",status="200"\} \d+/);
    expect(m).toMatch(/yard_proxy_request_duration_seconds_bucket/);
    expect(m).toMatch(/yard_proxy_in_flight\{service="alpha"\} 0/);
    expect(m).toMatch(/yard_proxy_route_table_version \d+/);
    expect((await fetch(`${proxy.admin}/-/healthz`)).status).toBe(200);
    expect((await fetch(`${proxy.admin}/-/ready`)).status).toBe(200);
    const access = proxy.proc.lines.filter((l) => l.includes('"msg":"request"'));
    expect(access.length).toBeGreaterThan(5);
    expect(JSON.parse(access[0])).toMatchObject({ method: "GET", service: "alpha", status: 200 });
    expect(proxy.proc.lines.join("\n")).not.toContain("SECRET");
  });
});
