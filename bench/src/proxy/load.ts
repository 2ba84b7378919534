import { execFileSync, spawn } from "node:child_process";
import autocannon from "autocannon";
import { Pool } from "undici";
import { percentile } from "./stats.js";

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses that were not 2xx, plus socket errors: must be 0 (the token is checked). */
  bad: number;
  requests: number;
}

export interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
}

export function wrkAvailable(): boolean {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its banner.
    return (err as { status?: number }).status === 1;
  }
}

/** The same load as perf-peers.md: wrk -t1 -cN --latency when installed, else autocannon. */
export function runLoad(spec: LoadSpec, useWrk: boolean): Promise<LoadResult> {
  return useWrk ? runWrk(spec) : runAutocannon(spec);
}

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
}

async function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const args = ["-t1", `-c${spec.connections}`, `-d${spec.seconds}s`, "--latency"];
  for (const [k, v] of Object.entries(spec.headers)) args.push("-H", `${k}: ${v}`);
  args.push(spec.url);
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn("wrk", args, { stdio: ["ignore", "pipe", "inherit"] });
    let s = "";
    p.stdout.on("data", (d) => (s += d));
    p.on("exit", (code) => (code === 0 ? resolve(s) : reject(new Error(`wrk exited ${code}: ${s}`))));
  });
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? ""),
    p99Ms: toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? ""),
    bad:
      num(/Non-2xx or 3xx responses: (\d+)/) +
      (errors ? errors.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
    requests: num(/(\d+) requests in/),
  };
}

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const r = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    headers: spec.headers,
  });
  return {
    rps: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    bad: r.non2xx + r.errors + r.timeouts,
    requests: r.requests.total,
  };
}

/** Concurrency 1: sequential requests on one kept-alive connection, sub-millisecond timing. */
export async function runSerial(spec: LoadSpec): Promise<LoadResult> {
  const u = new URL(spec.url);
  const pool = new Pool(u.origin, { connections: 1, pipelining: 1 });
  const times: number[] = [];
  let bad = 0;
  const end = performance.now() + spec.seconds * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    const r = await pool.request({ method: "GET", path: u.pathname, headers: spec.headers });
    await r.body.dump();
    times.push(performance.now() - t0);
    if (r.statusCode !== 200) bad++;
  }
  await pool.close();
  return {
    rps: times.length / spec.seconds,
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    bad,
    requests: times.length,
  };
}
