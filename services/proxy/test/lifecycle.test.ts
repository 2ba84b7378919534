import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProxyProc, startProxy, TestBus } from "./helpers.js";
import { Upstream } from "./upstream.js";

let bus: TestBus;
const up = new Upstream("u");
const started: ProxyProc[] = [];
const start = async (env: NodeJS.ProcessEnv = {}) => {
  const p = await startProxy(bus.nats.url, env);
  started.push(p);
  return p;
};

beforeAll(async () => {
  bus = await TestBus.start();
  await up.start();
  await bus.putEndpoint("llm", 1, up.url);
});
afterAll(async () => {
  await Promise.all(started.map((p) => p.proc.stop())); // no-op for the ones that exited
  await up.stop();
  await bus?.close();
});

describe("shutdown", () => {
  it("SIGTERM drains an in-flight stream to its end, turns /-/ready to 503, and exits 0", async () => {
    const proxy = await start();
    // Idle keep-alive connections must not hold the drain open.
    const agent = new Agent({ connections: 8 });
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const r = await request(`${proxy.url}/`, { headers: { host: "llm.localhost" }, dispatcher: agent });
        await r.body.dump();
      }),
    );
    const res = await request(`${proxy.url}/hold`, { headers: { host: "llm.localhost" }, dispatcher: agent });
    const body = res.body[Symbol.asyncIterator]();
    expect(String((await body.next()).value)).toBe("first\n");
    proxy.proc.child.kill("SIGTERM");
    await proxy.proc.waitForLine(/"msg":"shutting down"/);
    expect((await fetch(`${proxy.admin}/-/ready`)).status).toBe(503);
    up.gates.shift()!(); // the replica finishes its stream
    expect(String((await body.next()).value)).toBe("last\n");
    expect((await body.next()).done).toBe(true);
    expect(await proxy.proc.exited).toBe(0);
  });
});

describe("YARD_PROXY_WORKERS", () => {
  it("N workers share the port; the primary's admin merges their routes and metrics; SIGTERM drains all", async () => {
    const proxy = await start({ YARD_PROXY_WORKERS: "2" });
    const statuses = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const r = await request(`${proxy.url}/`, { headers: { host: "llm.localhost" }, reset: true });
        await r.body.dump();
        return r.statusCode;
      }),
    );
    expect(new Set(statuses)).toEqual(new Set([200]));
    const routes = await proxy.routes();
    expect(routes.services.map((s) => [s.name, s.replicas.map((r) => r.in_flight)])).toEqual([["llm", [0]]]);
    expect((await fetch(`${proxy.admin}/-/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${proxy.admin}/metrics`)).text();
    expect(metrics).toMatch(/yard_proxy_requests_total\{service="llm",status="200"\} 20/);
    const workers = proxy.proc.lines.filter((l) => l.includes('"msg":"worker listening"'));
    expect(workers).toHaveLength(2);
    proxy.proc.child.kill("SIGTERM");
    expect(await proxy.proc.exited).toBe(0);
  });
});
