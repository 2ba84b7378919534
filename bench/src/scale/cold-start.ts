import { request } from "node:http";
import type { Proc } from "@switchyard/testkit";
import { cpuSeconds } from "../proxy/cpu.js";
import { addressOf, launchProxy, treeRssMb } from "./procs.js";

export interface ColdStart {
  proc: Proc;
  url: string;
  admin: string;
  figures: {
    /** Spawn → the admin server listens (Node and the proxy's bundle loading; no NATS yet). */
    boot_ms: number;
    /** Spawn → /-/ready answers 200 (both snapshots in the route table, the data plane listening). */
    ready_ms: number;
    /** Spawn → a request for the last service written is answered 200 by its replica. */
    routed_ms: number;
    /** routed_ms less boot_ms: the route snapshot's part. */
    snapshot_ms: number;
    /** CPU seconds the proxy spent by then (boot included), and by the admin server's start. */
    cpu_s: number;
    boot_cpu_s: number;
    /** Resident set of the proxy's processes (with YARD_PROXY_WORKERS > 1, primary + workers). */
    rss_mb: number;
    services_routed: number;
  };
}

const POLL_MS = 5;

/**
 * Start a proxy on buckets already holding the fleet and time what a user sees: its /-/ready
 * (what a load balancer in front polls) turning 200, then a request to the last service
 * written being answered by one of its replicas.
 */
export async function coldStart(
  natsUrl: string,
  last: { host: string; token: string },
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<ColdStart> {
  const t0 = performance.now();
  const proc = launchProxy(natsUrl, env);
  try {
    return await measure(proc, t0, last, timeoutMs);
  } catch (err) {
    await proc.stop(5_000); // a proxy that did not start in time is not left behind
    throw err;
  }
}

async function measure(
  proc: Proc,
  t0: number,
  last: { host: string; token: string },
  timeoutMs: number,
): Promise<ColdStart> {
  const pid = proc.child.pid!;
  const admin = await addressOf(proc, "admin", timeoutMs);
  const bootMs = performance.now() - t0;
  const bootCpu = cpuSeconds(pid);
  let lastSeen = "";
  const until = async (what: string, ok: () => Promise<boolean>, ms = timeoutMs) => {
    const from = performance.now();
    while (
      !(await ok().catch((err) => {
        lastSeen = String(err);
        return false;
      }))
    ) {
      if (performance.now() - from > ms)
        throw new Error(`proxy: no ${what} within ${ms} ms (last: ${lastSeen})`);
      if (proc.child.exitCode !== null) throw new Error(`proxy exited: ${proc.lines.slice(-5).join("\n")}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    return performance.now() - t0;
  };
  const readyMs = await until("/-/ready 200", async () => (await fetch(`${admin}/-/ready`)).status === 200);
  const url = await addressOf(proc, "proxy", 1_000);
  const routedMs = await until(
    `answer from ${last.host}`,
    async () => {
      const r = await get(`${url}/v1/models`, { host: last.host, authorization: `Bearer ${last.token}` });
      lastSeen = `${r.status} ${r.body}`;
      return r.status === 200;
    },
    30_000,
  );
  const cpu = cpuSeconds(pid);
  // A serving process's "ready" (a cluster primary's own names its workers, not the services).
  const ready = JSON.parse(await proc.waitForLine(/"services":\d+.*"msg":"ready"/, 1_000)) as {
    services: number;
  };
  return {
    proc,
    url,
    admin,
    figures: {
      boot_ms: Math.round(bootMs),
      ready_ms: Math.round(readyMs),
      routed_ms: Math.round(routedMs),
      snapshot_ms: Math.round(routedMs - bootMs),
      cpu_s: round(cpu),
      boot_cpu_s: round(bootCpu),
      rss_mb: treeRssMb(pid),
      services_routed: ready.services,
    },
  };
}

/** A GET with its own Host header (fetch does not let a caller set one). */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

const round = (x: number) => Math.round(x * 100) / 100;
