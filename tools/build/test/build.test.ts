import { once } from "node:events";
import { readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { connectBus, createBucket, type NatsConnection, putJson, silentLogger } from "@switchyard/bus";
import { Buckets, replicaKey } from "@switchyard/contracts";
import {
  endpointRecord,
  groupMembers,
  type Proc,
  REPO_ROOT,
  routeRecord,
  run,
  startNats,
  startProc,
  type TestNats,
} from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROXY_BUNDLE } from "../src/index.js";

// `pnpm build` for real, then the proxy run from its bundle as deployments run it (`node
// services/proxy/dist/main.mjs`, no tsx) against a real nats-server and a node:http replica.
// The bundle is built here, never taken from an earlier run: a fresh clone has no dist/.
const BUNDLE = join(REPO_ROOT, PROXY_BUNDLE.outfile);
let buildStarted: number;
let build: Awaited<ReturnType<typeof run>>;
let nats: TestNats;
let nc: NatsConnection;
let replica: Server;
let replicaUrl: string;

beforeAll(async () => {
  buildStarted = Date.now();
  build = await run("tools/build/src/main.ts", []);
  nats = await startNats();
  nc = await connectBus({ url: nats.url, name: "build-test", logger: silentLogger });
  // What the spec service and the prober would have written: one service, one ready replica.
  const [services, endpoints] = await Promise.all([
    createBucket(nc, Buckets.services),
    createBucket(nc, Buckets.endpoints),
  ]);
  replica = createServer((_req, res) => res.end("hello from the replica"));
  replica.listen(0, "127.0.0.1");
  await once(replica, "listening");
  replicaUrl = `http://127.0.0.1:${(replica.address() as AddressInfo).port}`;
  await putJson(services, "alpha", routeRecord({ name: "alpha" }));
  await putJson(
    endpoints,
    replicaKey("alpha", 1),
    endpointRecord({ service: "alpha", replica_id: 1, url: replicaUrl }),
  );
}, 120_000);

afterAll(async () => {
  replica?.close();
  await nc?.close().catch(() => {});
  await nats?.dispose();
});

describe("pnpm build", () => {
  it("writes the proxy's bundle now (not a leftover) and says where", () => {
    expect(build.code, build.lines.join("\n")).toBe(0);
    expect(build.stdout).toMatch(/^built services\/proxy\/dist\/main\.mjs \(\d+\.\d MB\) in \d+ ms$/m);
    // mtime has a second's granularity on some file systems.
    expect(statSync(BUNDLE).mtimeMs).toBeGreaterThanOrEqual(Math.floor(buildStarted / 1000) * 1000);
  });
});

describe.each([1, 2])("the proxy run from its bundle with YARD_PROXY_WORKERS=%i", (workers) => {
  let proxy: Proc;
  let admin: string;
  let data: string;

  beforeAll(async () => {
    proxy = startProc(process.execPath, [BUNDLE], {
      env: {
        NATS_URL: nats.url,
        YARD_PROXY_HOST: "127.0.0.1",
        YARD_PROXY_PORT: "0",
        YARD_PROXY_ADMIN_PORT: "0",
        YARD_PROXY_WORKERS: String(workers),
        LOG_LEVEL: "info",
      },
    });
    const address = async (server: string) =>
      String(
        JSON.parse(await proxy.waitForLine(new RegExp(`"server":"${server}".*"msg":"listening"`), 60_000))
          .address,
      );
    admin = await address("admin");
    data = await address("proxy");
    // With workers, each logs its own "ready"; the primary's (with the count) comes once all are.
    await proxy.waitForLine(workers === 1 ? /"msg":"ready"/ : /"workers":\d+,"msg":"ready"/, 60_000);
  }, 90_000);

  afterAll(async () => {
    await proxy?.stop(5_000);
  });

  it("is ready on its admin server and routes a request to the replica", async () => {
    expect((await fetch(`${admin}/-/healthz`)).status).toBe(200);
    const ready = await fetch(`${admin}/-/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
    const res = await fetch(`${data}/`, { headers: { host: "alpha.localhost" } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("hello from the replica");
  });

  it("runs as node and the bundle alone, workers included (they fork the same file)", () => {
    const pids = groupMembers(proxy.child.pid!);
    // The primary and its workers; one process without workers.
    expect(pids).toHaveLength(workers === 1 ? 1 : workers + 1);
    for (const pid of pids) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      expect(argv).toEqual([process.execPath, BUNDLE]);
    }
  });

  it("on SIGTERM to its process (what tini or the launcher sends) drains and exits 0", async () => {
    const pgid = proxy.child.pid!;
    process.kill(pgid, "SIGTERM");
    expect(await proxy.exited).toBe(0);
    expect(groupMembers(pgid)).toEqual([]);
    expect(proxy.lines.filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
  });
});
