import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, natsServerBinary, type Proc, startProc } from "@switchyard/testkit";
import { BUS_USERS, type ClusterNode, clusterNodeArgs, clusterNodeConf, passwordVar } from "@switchyard/up";
import { afterAll, describe, expect, it } from "vitest";

// The generated cluster config (tools/up/src/nats-cluster-conf.ts) on real nats-servers: its
// route user keeps out a node that does not know the route password. (nats-server's --cluster
// flag would have dropped it: that is why the whole cluster block is in the file.)

const BIN = natsServerBinary();
const dir = mkdtempSync(join(tmpdir(), "yard-cluster-conf-"));
const procs: Proc[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop(5_000)));
  rmSync(dir, { recursive: true, force: true });
});

async function routesOf(monitor: number): Promise<string[]> {
  const r = (await (await fetch(`http://127.0.0.1:${monitor}/routez`)).json()) as {
    routes?: { remote_id: string }[];
  };
  return (r.routes ?? []).map((x) => x.remote_id);
}

describe.skipIf(!BIN)("cluster node configs on real nats-servers", () => {
  it("two nodes with the route password form a cluster; a third with another password is refused by both", async () => {
    const ports = await Promise.all(Array.from({ length: 9 }, () => freePort()));
    const nodes: ClusterNode[] = [0, 1, 2].map((i) => ({
      name: `t-${i + 1}`,
      clientHost: "127.0.0.1",
      clientPort: ports[i],
      routeHost: "127.0.0.1",
      routePort: ports[3 + i],
      storeDir: join(dir, `t-${i + 1}`),
    }));
    const env = {
      ...Object.fromEntries(BUS_USERS.map((u) => [passwordVar(u), `${u}-pw`])),
      YARD_NATS_JS_KEY: "k0123456789abcdef0123456789abcdef01",
    };
    for (const [i, n] of nodes.entries()) {
      const conf = join(dir, `${n.name}.conf`);
      const pass = i === 2 ? "intruder-pw" : "route-pw-1";
      writeFileSync(conf, clusterNodeConf(n, nodes, pass));
      const p = startProc(BIN!, [...clusterNodeArgs(conf, n), "-m", String(ports[6 + i])], {
        env: { ...env, YARD_NATS_ROUTE_PASS: pass },
      });
      procs.push(p);
      await p.waitForLine(/Server is ready/, 20_000);
    }
    // t-3 dials t-1 and t-2 with the wrong password: both refuse it (each logs it).
    await procs[0].waitForLine(/authentication error - User "route"/, 20_000);
    await procs[1].waitForLine(/authentication error - User "route"/, 20_000);
    // t-1 and t-2 route to each other: a route has no event a client sees, so /routez is asked
    // every 100 ms, up to 20 s.
    const deadline = Date.now() + 20_000;
    while ((await routesOf(ports[6])).length < 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const [r1, r2, r3] = await Promise.all([6, 7, 8].map((i) => routesOf(ports[i])));
    expect(r1).toHaveLength(1);
    expect(r2).toHaveLength(1);
    expect(r3).toEqual([]);
  }, 60_000);
});
