import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { Readable } from "node:stream";
import { alive, type Proc } from "@switchyard/testkit";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessEntry } from "../src/forward.js";
import { type ProxyProc, readUntil, startEngine, startProxy, TestBus } from "./helpers.js";
import { Upstream } from "./upstream.js";

// Issue 8, "proxy survives any client": each attack as it was run against a real proxy process
// (real nats-server; node:http replicas and fake-engine replicas), and what a user notices
// afterwards.
const BODY_TIMEOUT_MS = 500;
const KEY = "sk-hostile-SECRET-0b7e";
let bus: TestBus;
let proxy: ProxyProc;
const a = new Upstream("a");
/** Two replicas whose /reset drops the connection after reading the request. */
const r1 = new Upstream("r1");
const r2 = new Upstream("r2");
/** A replica that dies while it streams. */
const dying = new Upstream("dying");
/** A replica without WebSocket support: like most HTTP servers, it answers an Upgrade with 200. */
let plain: Server;
const engines: { proc: Proc; url: string }[] = [];

const port = () => Number(new URL(proxy.url).port);

/** A raw client connection to the proxy's data plane. */
async function raw(): Promise<Socket> {
  const s = connect(port(), "127.0.0.1");
  s.on("error", () => {}); // resets are what these tests do
  await once(s, "connect");
  return s;
}

/** One whole HTTP/1.1 response (Content-Length or chunked) at the start of `got`. */
function wholeResponse(got: string): boolean {
  const end = got.indexOf("\r\n\r\n");
  if (end === -1) return false;
  const head = got.slice(0, end);
  const len = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (len) return got.length >= end + 4 + Number(len[1]);
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) return got.endsWith("\r\n0\r\n\r\n");
  return false;
}

function accessLog(): AccessEntry[] {
  return proxy.proc.lines
    .filter((l) => l.includes('"msg":"request"'))
    .map((l) => JSON.parse(l) as AccessEntry);
}

async function routes(service: string) {
  return (await proxy.routes()).services.find((s) => s.name === service)!;
}

async function metric(re: RegExp): Promise<number> {
  const text = await (await fetch(`${proxy.admin}/metrics`)).text();
  return Number(re.exec(text)?.[1] ?? 0);
}

async function stillServing(): Promise<void> {
  expect(alive(proxy.proc.child.pid!)).toBe(true);
  const r = await request(`${proxy.url}/`, { headers: { host: "alpha.localhost" } });
  expect(r.statusCode).toBe(200);
  expect(await r.body.text()).toBe("hello from a");
}

beforeAll(async () => {
  bus = await TestBus.start();
  plain = createServer((req, res) => {
    req.resume();
    const body = `plain ${req.method} ${req.url}`;
    res.writeHead(200, { "x-replica": "plain", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  plain.listen(0, "127.0.0.1");
  const [, , ...started] = await Promise.all([
    once(plain, "listening"),
    Promise.all([a, r1, r2, dying].map((u) => u.start())),
    startEngine(KEY),
    startEngine(KEY),
  ]);
  engines.push(...started);
  const plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  for (const s of ["alpha", "plain", "llm", "resets", "gamma"]) await bus.putService(s, "round_robin");
  await bus.putEndpoint("alpha", 1, a.url);
  await bus.putEndpoint("plain", 1, plainUrl);
  await bus.putEndpoint("llm", 1, engines[0].url);
  await bus.putEndpoint("llm", 2, engines[1].url);
  await bus.putEndpoint("resets", 1, r1.url);
  await bus.putEndpoint("resets", 2, r2.url);
  const rev = await bus.putEndpoint("gamma", 1, dying.url);
  proxy = await startProxy(bus.nats.url, {
    YARD_PROXY_ACCESS_LOG: "all",
    YARD_PROXY_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS),
  });
  await proxy.applied(rev);
}, 120_000);
afterAll(async () => {
  await proxy?.proc.stop();
  await Promise.all([...[a, r1, r2].map((u) => u.stop()), ...engines.map((e) => e.proc.stop())]);
  await new Promise((r) => plain?.close(r));
  await bus?.close();
});

describe("raw sockets", () => {
  it("an Upgrade for an unknown Host, reset by the client after the 404, ends that connection, not the process", async () => {
    const upgrade =
      "GET /ws HTTP/1.1\r\nHost: nope.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
    for (let i = 0; i < 6; i++) {
      const s = await raw();
      s.write(upgrade);
      expect(await readUntil(s, wholeResponse)).toMatch(/^HTTP\/1.1 404 [\s\S]*SY_ERR_UNKNOWN_SERVICE/);
      s.resetAndDestroy(); // RST, not FIN
    }
    // Six more reset while the proxy may still be answering.
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        const s = await raw();
        s.write(upgrade);
        s.resetAndDestroy();
      }),
    );
    await stillServing();
  });
});

describe("Upgrade", () => {
  it("a replica that answers 200 gets no tunnel: the next request on that connection is routed and logged", async () => {
    const s = await raw();
    s.write(
      "GET /ws HTTP/1.1\r\nHost: plain.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    const first = await readUntil(s, wholeResponse);
    expect(first).toMatch(/^HTTP\/1.1 200 /);
    expect(first).toMatch(/\r\n\r\nplain GET \/ws$/);
    // Same connection, another service: through a raw tunnel it would reach the plain replica.
    s.write("GET /next?token=SECRET HTTP/1.1\r\nHost: alpha.localhost\r\n\r\n");
    const second = await readUntil(s, wholeResponse);
    expect(second).toMatch(/^HTTP\/1.1 200 /);
    expect(second).toMatch(/hello from a/);
    s.destroy();
    await proxy.logged(/"path":"\/next".*"msg":"request"/);
    expect(accessLog().filter((e) => e.service === "plain" || e.path === "/next")).toMatchObject([
      { method: "GET", path: "/ws", service: "plain", status: 200 },
      { method: "GET", path: "/next", service: "alpha", status: 200 },
    ]);
    expect((await routes("plain")).replicas.map((r) => r.in_flight)).toEqual([0]); // no lease held
  });

  it("a replica's 101 opens a tunnel, logged with status 101 when it closes", async () => {
    const s = await raw();
    s.write(
      "GET /ws-tunnel HTTP/1.1\r\nHost: alpha.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    );
    const head = await readUntil(s, (g) => g.includes("\r\n\r\n"));
    expect(head).toMatch(/^HTTP\/1.1 101 Switching Protocols\r\n/);
    expect(head).toMatch(/\r\nUpgrade: websocket\r\n/i);
    s.write("ping");
    await readUntil(s, (g) => g.includes("echo:ping"));
    expect((await routes("alpha")).replicas.map((r) => r.in_flight)).toEqual([1]); // the tunnel's lease
    s.destroy();
    await proxy.logged(/"path":"\/ws-tunnel".*"status":101/);
    expect((await routes("alpha")).replicas.map((r) => r.in_flight)).toEqual([0]);
  });
});

describe("request targets", () => {
  it("absolute-form is routed by its authority, not Host, and reaches the replica in origin-form", async () => {
    const s = await raw();
    s.write("GET http://alpha.localhost:8080/echo?x=1 HTTP/1.1\r\nHost: plain.localhost\r\n\r\n");
    const got = await readUntil(s, wholeResponse);
    s.destroy();
    expect(got).toMatch(/^HTTP\/1.1 200 /);
    const echo = JSON.parse(
      got.slice(got.indexOf("\r\n\r\n") + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, ""),
    );
    expect(echo).toMatchObject({ method: "GET", url: "/echo?x=1" });
  });
});

describe("bodies", () => {
  it("a body the replica refuses (413 while it streams) reaches the client as that 413 and ejects nobody", async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 0x61); // over fake-engine's 1 MiB body limit
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      // No Content-Length: chunked, streamed through the proxy (no replay).
      const res = await request(`${proxy.url}/v1/chat/completions`, {
        method: "POST",
        headers: {
          host: "llm.localhost",
          authorization: `Bearer ${KEY}`,
          "content-type": "application/json",
        },
        body: Readable.from([big.subarray(0, 1 << 20), big.subarray(1 << 20)]),
      });
      statuses.push(res.statusCode);
      await res.body.dump();
    }
    expect(statuses).toEqual(Array(12).fill(413));
    const llm = await routes("llm");
    expect(llm.replicas.map((r) => [r.ejected, r.in_flight])).toEqual([
      [false, 0],
      [false, 0],
    ]);
    expect(await metric(/yard_proxy_ejections_total\{service="llm"\} (\d+)/)).toBe(0);
    const ok = await request(`${proxy.url}/v1/models`, {
      headers: { host: "llm.localhost", authorization: `Bearer ${KEY}` },
    });
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
  });

  it.each([
    { name: "buffered (Content-Length)", head: "Content-Length: 100", first: "0123456789" },
    { name: "streamed (chunked)", head: "Transfer-Encoding: chunked", first: "a\r\n0123456789\r\n" },
  ])("a body that stops coming gets 408 after the body timeout: $name", async ({ head, first }) => {
    const s = await raw();
    const t0 = performance.now();
    s.write(`POST /upload HTTP/1.1\r\nHost: alpha.localhost\r\n${head}\r\n\r\n${first}`);
    const got = await readUntil(s, wholeResponse);
    const waited = performance.now() - t0;
    expect(got).toMatch(/^HTTP\/1.1 408 [\s\S]*SY_ERR_BODY_TIMEOUT/);
    expect(got).toMatch(/\r\nconnection: close\r\n/i);
    expect(waited).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 5);
    expect(waited).toBeLessThan(BODY_TIMEOUT_MS * 4);
    await once(s, "close"); // the proxy hangs up: the rest of that body will never be read
    expect((await routes("alpha")).replicas.map((r) => [r.ejected, r.in_flight])).toEqual([[false, 0]]);
  });
});

describe("replica failures", () => {
  it("a stream cut by a dying replica is an error in metrics and the access log, not a 200", async () => {
    const res = await request(`${proxy.url}/hold`, { headers: { host: "gamma.localhost" } });
    expect(res.statusCode).toBe(200);
    const it = res.body[Symbol.asyncIterator]();
    expect(String((await it.next()).value)).toBe("first\n");
    await dying.stop(); // its connections go with it
    await expect(it.next()).rejects.toThrow(); // the client sees a cut, not a clean end
    await proxy.logged(/"service":"gamma".*"msg":"request"/);
    expect(accessLog().filter((e) => e.service === "gamma")).toMatchObject([
      { path: "/hold", status: 502, upstream_status: 200, error: expect.stringMatching(/^stream_cut:/) },
    ]);
    expect(await metric(/yard_proxy_requests_total\{service="gamma",status="502"\} (\d+)/)).toBe(1);
    expect(await metric(/yard_proxy_requests_total\{service="gamma",status="200"\} (\d+)/)).toBe(0);
  });

  it("after the request reached a replica, a GET is retried elsewhere, a POST is not (RFC 9110 §9.2.2)", async () => {
    const n0 = accessLog().length;
    const get = await request(`${proxy.url}/reset`, { headers: { host: "resets.localhost" } });
    expect(get.statusCode).toBe(502);
    await get.body.dump();
    const post = await request(`${proxy.url}/reset`, {
      method: "POST",
      headers: { host: "resets.localhost" },
      body: "x",
    });
    expect(post.statusCode).toBe(502);
    expect(await post.body.json()).toMatchObject({ code: "SY_ERR_UPSTREAM" });
    await proxy.logged(/"method":"POST","path":"\/reset"/);
    expect(accessLog().slice(n0)).toMatchObject([
      { method: "GET", status: 502, attempts: 2, error: "exhausted" },
      { method: "POST", status: 502, attempts: 1 },
    ]);
  });

  it("replicas failing again and again are ejected, never more than half of the service", async () => {
    for (let i = 0; i < 8; i++) {
      const r = await request(`${proxy.url}/reset`, { headers: { host: "resets.localhost" } });
      await r.body.dump();
    }
    const out = (await routes("resets")).replicas.filter((r) => r.ejected);
    expect(out).toHaveLength(1); // both failed ≥ 3 times in a row; 1 of 2 may be out
    await stillServing();
  });
});
