import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FUZZ_KINDS, type FuzzCase, makeCase, rng } from "./fuzz-cases.js";
import { type ProxyProc, startProxy, TestBus, until } from "./helpers.js";
import { Upstream } from "./upstream.js";

/**
 * Hostile HTTP/1.1 against a running proxy process, in batches. After each batch a user would
 * notice none of it: the process is alive, nothing is left in flight, no upstream connection
 * leaked, and a normal request still gets its answer. Seeded and bounded: YARD_FUZZ_SEED picks
 * the sequence (a failure prints it), YARD_FUZZ_CASES the length (CI: 400; a longer run:
 * `YARD_FUZZ_CASES=20000 YARD_FUZZ_SEED=$RANDOM pnpm exec vitest run services/proxy/test/fuzz.test.ts`).
 */
const SEED = Number(process.env.YARD_FUZZ_SEED ?? 0x5eed);
const CASES = Number(process.env.YARD_FUZZ_CASES ?? 400);
const BATCH = 25;
const CONCURRENCY = 8;
/** How long a client that waits for an answer waits before it leaves (a reset). */
const PATIENCE_MS = 1_200;

/** Play one case on a fresh connection; resolves when the connection is gone. */
function play(port: number, c: FuzzCase): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    let timer: NodeJS.Timeout | null = null;
    const finish = () => {
      if (timer) clearTimeout(timer);
      s.destroy();
      resolve();
    };
    s.on("error", () => {}); // the client side of a hostile exchange may fail in any way
    s.on("data", () => {});
    s.once("close", finish);
    s.once("connect", async () => {
      for (let i = 0; i < c.pieces.length && !s.destroyed; i++) {
        s.write(c.pieces[i]);
        if (c.pauseMs[i]) await new Promise((r) => setTimeout(r, c.pauseMs[i]));
      }
      if (s.destroyed) return;
      if (c.ending === "rst") s.resetAndDestroy();
      else if (c.ending === "fin") s.end();
      timer = setTimeout(() => (s.destroyed ? undefined : s.resetAndDestroy()), PATIENCE_MS);
    });
  });
}

async function runBatch(port: number, cases: FuzzCase[]): Promise<void> {
  const queue = [...cases];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) await play(port, c);
    }),
  );
}

describe(`data-plane fuzz (seed ${SEED}, ${CASES} cases)`, () => {
  let bus: TestBus;
  let up: Upstream;
  let proxy: ProxyProc;
  let port: number;

  beforeAll(async () => {
    bus = await TestBus.start();
    up = await new Upstream("r1").start();
    await bus.putService("fz", "least_load");
    const rev = await bus.putEndpoint("fz", 1, up.url);
    proxy = await startProxy(bus.nats.url, { YARD_PROXY_BODY_TIMEOUT_MS: "800" });
    await proxy.applied(rev);
    port = Number(new URL(proxy.url).port);
  });
  afterAll(async () => {
    for (const g of up?.gates.splice(0) ?? []) g();
    await proxy?.proc.stop();
    await up?.stop();
    await bus?.close();
  });

  it("every kind of hostile input is generated", () => {
    const r = rng(SEED);
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) seen.add(makeCase(r, { host: "fz.localhost" }).kind);
    expect([...seen].sort()).toEqual([...FUZZ_KINDS].sort());
  });

  it("the proxy survives every batch: alive, nothing in flight, no leaked upstream connection, still serving", async () => {
    const r = rng(SEED);
    const kinds: Record<string, number> = {};
    for (let done = 0; done < CASES; done += BATCH) {
      const cases = Array.from({ length: Math.min(BATCH, CASES - done) }, () =>
        makeCase(r, { host: "fz.localhost" }),
      );
      for (const c of cases) kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;
      await runBatch(port, cases);
      for (const g of up.gates.splice(0)) g(); // let /sse and /hold streams end
      const where = `seed ${SEED}, cases ${done}..${done + cases.length - 1}`;

      expect(
        proxy.proc.child.exitCode,
        `proxy exited (${where}): ${proxy.proc.lines.slice(-5).join("\n")}`,
      ).toBeNull();
      await until(
        `in flight after ${where}`,
        () => proxy.routes(),
        (v) => v.services.every((s) => s.replicas.every((x) => x.in_flight === 0)),
      );
      // Kept-alive connections stay pooled; a leak grows with every batch past this bound.
      await until(
        `upstream sockets after ${where}`,
        async () => up.openSockets,
        (n) => n <= CONCURRENCY * 2,
      );
      const ok = await fetch(`${proxy.url}/`, { headers: { host: "fz.localhost" } });
      expect([ok.status, await ok.text()], where).toEqual([200, "hello from r1"]);
      const routes = await proxy.routes();
      expect(routes.services.find((s) => s.name === "fz")?.replicas[0].ejected, `ejected (${where})`).toBe(
        false,
      );
    }
    expect(Object.keys(kinds).length).toBeGreaterThan(8);
  }, 120_000);
});
