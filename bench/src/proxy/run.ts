import { createServer } from "node:net";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { connectBus, createBucket, silentLogger } from "@switchyard/bus";
import { Buckets } from "@switchyard/contracts";
import { startNats } from "@switchyard/testkit";
import { UsageError } from "../autoscale/options.js";
import { cpuSeconds } from "./cpu.js";
import { type CpuResult, type LoadResult, measureCpu, runLoad, runSerial, wrkAvailable } from "./load.js";
import { measurePropagation } from "./propagation.js";
import { median, round } from "./stats.js";
import {
  nginxAvailable,
  putEndpoint,
  startBaseline,
  startFloor,
  startNginx,
  startSwitchyard,
  startUpstream,
  type Target,
} from "./targets.js";

const TOKEN = "bench-secret-token";
const CONNECTIONS = 64;
const ROUNDS = 3;
const SECONDS = 5;
const WARMUP_SECONDS = 2;
const SERIAL_SECONDS = 2;
/** CPU rounds: every proxy row at once, each at the same fixed rate, measured in the middle. */
const CPU_SECONDS = 6;
const CPU_TRIM_SECONDS = 1;
/** Each proxy's rate in the CPU rounds: light enough for every row to keep up on 2 busy cores. */
const CPU_RATE = 400;
const CPU_CONNECTIONS = 16;
const PROPAGATION_PROXIES = 8;
const PROPAGATION_CHANGES = 120;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/**
 * `pnpm bench proxy`: the same load direct, through one Switchyard proxy process, the Node
 * floor (node:http straight into undici, nothing else), a plain fastify + reply-from proxy and
 * nginx (when installed), in interleaved rounds; then CPU per request of every proxy row under
 * one fixed rate, all rows at once (so a busy machine slows them alike); then route propagation
 * over 8 proxy processes. Prints a table and, last, one JSON line. `--profile DIR`: the
 * Switchyard and Node floor processes run with `--cpu-prof` and leave their profiles in DIR.
 */
export async function runProxyBench(args: string[] = []): Promise<void> {
  const profileDir = profileDirOf(args);
  const useWrk = wrkAvailable();
  const log = (s: string) => console.log(s);
  // Other work on the machine skews every figure (only ratios are comparable): say how busy it is.
  const load0 = loadavg()[0];
  log(
    `proxy bench: ${useWrk ? "wrk -t1" : "autocannon"} -c${CONNECTIONS}, ${ROUNDS} interleaved rounds of ${SECONDS} s, loopback; ${cpus().length} cores, load average ${load0.toFixed(1)}`,
  );
  const nats = await startNats();
  const nc = await connectBus({ url: nats.url, name: "bench", logger: silentLogger });
  const endpoints = await createBucket(nc, Buckets.endpoints);
  await createBucket(nc, Buckets.services);
  const upstream = await startUpstream(TOKEN);
  await putEndpoint(endpoints, "bench", 1, upstream.url);
  const targets: Target[] = [{ name: "direct", url: upstream.url, pid: null, stop: async () => {} }];
  const stops: (() => Promise<unknown>)[] = [
    () => upstream.proc.stop(),
    () => nc.close(),
    () => nats.dispose(),
  ];
  try {
    const prof = (name: string) => (profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}/${name}`] : []);
    targets.push(await startSwitchyard(nats.url, {}, prof("switchyard")));
    targets.push(await startFloor(upstream.url, prof("node-floor")));
    targets.push(await startBaseline(upstream.url));
    // Not a target of the issue (that is one process), but it shows how node:cluster scales here.
    const workers = await startSwitchyard(nats.url, { YARD_PROXY_WORKERS: "2" });
    targets.push({ ...workers, name: "switchyard 2 workers" });
    if (nginxAvailable()) targets.push(await startNginx(upstream.url, await freePort()));
    else log("nginx not installed: skipping the nginx row");
    for (const t of targets.slice(1)) stops.unshift(t.stop);

    // Capitalised: wrk adds its own Host unless the name is exactly "Host" (nginx 400s on two).
    const headers = { Authorization: `Bearer ${TOKEN}`, Host: "bench.localhost" };
    for (const t of targets) {
      const ok = await fetch(`${t.url}/v1/models`, { headers });
      const denied = await fetch(`${t.url}/v1/models`, { headers: { host: "bench.localhost" } });
      if (ok.status !== 200 || denied.status !== 401)
        throw new Error(`${t.name}: token not forwarded (${ok.status}/${denied.status})`);
    }
    const spec = (t: Target, seconds: number, connections = CONNECTIONS) => ({
      url: `${t.url}/v1/models`,
      headers,
      connections,
      seconds,
    });
    for (const t of targets) await runLoad(spec(t, WARMUP_SECONDS), useWrk);

    // CPU here is the whole round's over its requests: each target at its own (closed-loop) pace.
    const runs = new Map<string, (LoadResult & { cpuUs: number | null })[]>(targets.map((t) => [t.name, []]));
    for (let r = 1; r <= ROUNDS; r++) {
      for (const t of targets) {
        const c0 = t.pid ? cpuSeconds(t.pid) : 0;
        const res = await runLoad(spec(t, SECONDS), useWrk);
        const cpuUs = t.pid && res.requests ? ((cpuSeconds(t.pid) - c0) * 1e6) / res.requests : null;
        runs.get(t.name)!.push({ ...res, cpuUs });
        log(
          `  round ${r} ${t.name.padEnd(20)} ${Math.round(res.rps).toString().padStart(7)} req/s  p50 ${round(res.p50Ms)} ms  p99 ${round(res.p99Ms)} ms${res.bad ? `  BAD ${res.bad}` : ""}`,
        );
      }
    }
    // CPU per request: the same fixed rate for every proxy row, all rows at once in each round.
    const proxies = targets.filter((t) => t.pid !== null);
    const rate = CPU_RATE;
    log(
      `\nCPU per request: ${proxies.length} proxies at once, each at ${rate} req/s evenly spaced (≤ ${CPU_CONNECTIONS} connections), ${ROUNDS} rounds of ${CPU_SECONDS} s, the middle ${CPU_SECONDS - 2 * CPU_TRIM_SECONDS} s measured`,
    );
    if (profileDir) log("  (--profile: the profiler's own sampling is charged to the profiled rows)");
    const cpu = new Map<string, CpuResult[]>(proxies.map((t) => [t.name, []]));
    const vsFloor: number[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const got = await Promise.all(
        proxies.map((t) =>
          measureCpu(spec(t, CPU_SECONDS, CPU_CONNECTIONS), rate, t.pid!, cpuSeconds, CPU_TRIM_SECONDS),
        ),
      );
      for (const [i, t] of proxies.entries()) cpu.get(t.name)!.push(got[i]);
      const us = (name: string) => got[proxies.findIndex((t) => t.name === name)].cpuUs;
      vsFloor.push(us("switchyard") / us("node floor"));
      log(
        `  round ${r} ${proxies.map((t, i) => `${t.name} ${round(got[i].cpuUs, 1)} µs (${Math.round(got[i].rps)}/s)${got[i].bad ? ` BAD ${got[i].bad}` : ""}${got[i].behind ? ` behind by ${got[i].behind}` : ""}`).join(", ")}`,
      );
    }

    const serial = new Map<string, number[]>([
      ["direct", []],
      ["switchyard", []],
    ]);
    for (let r = 1; r <= ROUNDS; r++) {
      for (const t of targets.slice(0, 2))
        serial.get(t.name)!.push((await runSerial(spec(t, SERIAL_SECONDS, 1))).p50Ms);
    }

    const direct = median(runs.get("direct")!.map((x) => x.rps));
    const rows = targets.map((t) => {
      const rs = runs.get(t.name)!;
      const rps = median(rs.map((x) => x.rps));
      const cs = cpu.get(t.name);
      const c64 = rs.every((x) => x.cpuUs !== null) ? round(median(rs.map((x) => x.cpuUs!)), 1) : null;
      return {
        name: t.name,
        rps: Math.round(rps),
        ratio: round(rps / direct, 3),
        p50_ms: round(median(rs.map((x) => x.p50Ms))),
        p99_ms: round(median(rs.map((x) => x.p99Ms))),
        cpu_us_per_req: cs ? round(median(cs.map((x) => x.cpuUs)), 1) : null,
        cpu_us_per_req_c64: c64,
        bad: rs.reduce((a, x) => a + x.bad, 0) + (cs ?? []).reduce((a, x) => a + x.bad, 0),
      };
    });
    const us = (x: number | null) => (x === null ? "–" : `${x} µs`);
    log(
      `\ntarget                 req/s   vs direct   p50 ms   p99 ms   CPU/req c${CONNECTIONS}   CPU/req at ${rate}/s`,
    );
    for (const r of rows)
      log(
        `${r.name.padEnd(20)} ${String(r.rps).padStart(7)}   ${r.ratio.toFixed(3).padStart(9)}   ${String(r.p50_ms).padStart(6)}   ${String(r.p99_ms).padStart(6)}   ${us(r.cpu_us_per_req_c64).padStart(11)}   ${us(r.cpu_us_per_req).padStart(11)}`,
      );
    const floorRatio = round(median(vsFloor), 3);
    const byRow = (name: string) => rows.find((r) => r.name === name)!;
    const floorRatioC64 = round(
      byRow("switchyard").cpu_us_per_req_c64! / byRow("node floor").cpu_us_per_req_c64!,
      3,
    );
    log(
      `switchyard CPU/request ÷ Node floor: ${floorRatio} at ${rate}/s (median of the rounds: ${vsFloor.map((x) => round(x, 3)).join(", ")}); ${floorRatioC64} at c${CONNECTIONS}`,
    );
    const c1 = {
      direct_p50_ms: round(median(serial.get("direct")!), 3),
      switchyard_p50_ms: round(median(serial.get("switchyard")!), 3),
      added_p50_ms: round(median(serial.get("switchyard")!) - median(serial.get("direct")!), 3),
    };
    log(
      `\nconcurrency 1: direct p50 ${c1.direct_p50_ms} ms, through switchyard ${c1.switchyard_p50_ms} ms (added ${c1.added_p50_ms} ms)`,
    );

    for (const t of targets.slice(1)) await t.stop();
    stops.splice(0, targets.length - 1);
    log(
      `\nroute propagation: ${PROPAGATION_PROXIES} proxy processes, ${PROPAGATION_CHANGES} endpoint changes`,
    );
    const prop = await measurePropagation(
      nats.url,
      endpoints,
      upstream.url,
      PROPAGATION_PROXIES,
      PROPAGATION_CHANGES,
    );
    log(
      `  KV write → routed by all ${prop.proxies}: p50 ${prop.p50Ms} ms, p99 ${prop.p99Ms} ms, max ${prop.maxMs} ms`,
    );

    const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
    console.log(
      JSON.stringify({
        bench: "proxy",
        cores: cpus().length,
        loadavg_start: round(load0, 1),
        loadavg_end: round(loadavg()[0], 1),
        tool: useWrk ? "wrk" : "autocannon",
        connections: CONNECTIONS,
        rounds: ROUNDS,
        seconds: SECONDS,
        direct: byName.direct,
        switchyard: byName.switchyard,
        node_floor: byName["node floor"],
        fastify_reply_from: byName["fastify+reply-from"],
        switchyard_2_workers: byName["switchyard 2 workers"],
        nginx: byName.nginx ?? null,
        cpu: {
          rate_per_proxy: rate,
          rounds: ROUNDS,
          seconds: CPU_SECONDS,
          measured_seconds: CPU_SECONDS - 2 * CPU_TRIM_SECONDS,
          switchyard_vs_node_floor: floorRatio,
          switchyard_vs_node_floor_rounds: vsFloor.map((x) => round(x, 3)),
          switchyard_vs_node_floor_c64: floorRatioC64,
        },
        concurrency1: c1,
        propagation: {
          proxies: prop.proxies,
          changes: prop.changes,
          p50_ms: prop.p50Ms,
          p99_ms: prop.p99Ms,
          max_ms: prop.maxMs,
        },
      }),
    );
  } finally {
    for (const s of stops) await s().catch(() => {});
  }
}

/** `--profile DIR` (the only option). */
function profileDirOf(args: string[]): string | null {
  if (args.length === 0) return null;
  if (args.length === 2 && args[0] === "--profile" && args[1] && !args[1].startsWith("-"))
    return resolve(args[1]);
  throw new UsageError("usage: pnpm bench proxy [--profile DIR]");
}
