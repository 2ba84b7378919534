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

export interface CpuResult {
  /** Requests answered per second inside the measured window. */
  rps: number;
  /** CPU of the target process (threads and children) per request answered in the window. */
  cpuUs: number;
  /** Responses that were not 2xx, plus errors. */
  bad: number;
  /** Requests not sent because every connection was still waiting: the target fell behind the rate. */
  behind: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * CPU per request of `pid` at a fixed `rate`, evenly spaced (a request every 1/rate s, sent in
 * 5 ms ticks, at most `connections` at once; autocannon's rate fires each second's quota at
 * once), so every target gets the same load. Only the steady middle is measured:
 * `trimSeconds` after the start (new connections, the target's pool reconnecting) and before
 * the end (in-flight requests finishing) are left out.
 */
export async function measureCpu(
  spec: LoadSpec,
  rate: number,
  pid: number,
  cpuSeconds: (pid: number) => number,
  trimSeconds = 1,
): Promise<CpuResult> {
  const u = new URL(spec.url);
  const pool = new Pool(u.origin, { connections: spec.connections, pipelining: 1 });
  let answered = 0;
  let bad = 0;
  let behind = 0;
  let inFlight = 0;
  const send = () => {
    if (inFlight >= spec.connections) {
      behind++;
      return;
    }
    inFlight++;
    pool.request({ method: "GET", path: u.pathname, headers: spec.headers }).then(
      async (r) => {
        await r.body.dump();
        inFlight--;
        answered++;
        if (r.statusCode < 200 || r.statusCode > 299) bad++;
      },
      () => {
        inFlight--;
        bad++;
      },
    );
  };
  const start = performance.now();
  const end = start + spec.seconds * 1000;
  let sent = 0;
  const ticker = setInterval(() => {
    const now = Math.min(performance.now(), end);
    for (const due = Math.floor(((now - start) / 1000) * rate); sent < due; sent++) send();
  }, 5);
  try {
    await sleep(trimSeconds * 1000);
    const [c0, n0, t0] = [cpuSeconds(pid), answered, performance.now()];
    await sleep((spec.seconds - 2 * trimSeconds) * 1000);
    const [c1, n1, t1] = [cpuSeconds(pid), answered, performance.now()];
    await sleep(Math.max(0, end - performance.now()));
    const n = n1 - n0;
    return {
      rps: (n * 1000) / (t1 - t0),
      cpuUs: n > 0 ? ((c1 - c0) * 1e6) / n : Number.NaN,
      bad,
      behind,
    };
  } finally {
    clearInterval(ticker);
    await pool.close();
  }
}
