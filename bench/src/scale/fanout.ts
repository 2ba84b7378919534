import { type KV, putJson } from "@switchyard/bus";
import { replicaKey } from "@switchyard/contracts";
import { endpointRecord, type Proc } from "@switchyard/testkit";
import { percentile, round } from "../proxy/stats.js";
import { type Fleet, serviceName } from "./fleet.js";
import { launchProxy, memoryMb } from "./procs.js";

export interface FanoutStep {
  proxies: number;
  changes: number;
  /** KV write → applied by one proxy (every proxy × change pair). */
  p50_ms: number;
  p99_ms: number;
  /** KV write → applied by every proxy (per change). */
  all_p50_ms: number;
  all_p99_ms: number;
  max_ms: number;
}

export interface FanoutResult {
  proxies_started: number;
  start_s: number;
  rss_mb_mean: number;
  rate_per_s: number;
  steps: FanoutStep[];
}

const CHANGED = /"version":(\d+),"msg":"route table changed"/;

/**
 * `proxies` real proxy processes, each holding the whole fleet, watch the bus while endpoint
 * changes stream in at `ratePerS` (open loop: a change is written on its due time, whether or
 * not the last one arrived). A change flips one endpoint's `draining` (the prober's write when
 * a replica drains); each proxy logs the revision right after its table applied it, read here
 * from its stdout. Then half the proxies stop and it runs again, down to `minProxies`: how the
 * delay grows with the number of watchers is what extrapolates to a fleet's proxies.
 */
export async function measureFanout(
  natsUrl: string,
  endpoints: KV,
  fleet: { f: Fleet; upstreams: string[] },
  o: { proxies: number; minProxies: number; ratePerS: number; seconds: number; startConcurrency: number },
  env: NodeJS.ProcessEnv,
  log: (s: string) => void,
): Promise<FanoutResult> {
  const procs: Proc[] = [];
  const seen = new Map<number, number[]>(); // revision → times it was applied, one per proxy
  const watch = (p: Proc) => {
    let buf = "";
    p.child.stdout!.on("data", (d: Buffer) => {
      const now = performance.now();
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) {
        const m = CHANGED.exec(l);
        if (!m) continue;
        const rev = Number(m[1]);
        const at = seen.get(rev) ?? [];
        at.push(now);
        seen.set(rev, at);
      }
    });
  };
  const t0 = performance.now();
  try {
    while (procs.length < o.proxies) {
      const batch = Array.from({ length: Math.min(o.startConcurrency, o.proxies - procs.length) }, () => {
        const p = launchProxy(natsUrl, env);
        procs.push(p);
        watch(p);
        return p.waitForLine(/"msg":"ready"/, 600_000);
      });
      await Promise.all(batch);
      log(`  ${procs.length}/${o.proxies} proxies ready (${Math.round((performance.now() - t0) / 1000)} s)`);
    }
    const startS = (performance.now() - t0) / 1000;
    const rss = procs.map((p) => memoryMb(p.child.pid!).rss);
    const draining = new Map<string, boolean>();
    const steps: FanoutStep[] = [];
    for (let n = o.proxies; n >= o.minProxies; n = Math.floor(n / 2)) {
      while (procs.length > n) await procs.pop()!.stop(10_000);
      steps.push(await step(n));
      const s = steps.at(-1)!;
      log(
        `  ${n} proxies: KV write → applied p50 ${s.p50_ms} ms, p99 ${s.p99_ms} ms; by all ${n}: p50 ${s.all_p50_ms} ms, p99 ${s.all_p99_ms} ms, max ${s.max_ms} ms`,
      );
      if (n === o.minProxies || n === 1) break;
    }
    return {
      proxies_started: o.proxies,
      start_s: round(startS, 1),
      rss_mb_mean: Math.round(rss.reduce((a, b) => a + b, 0) / rss.length),
      rate_per_s: o.ratePerS,
      steps,
    };

    async function step(n: number): Promise<FanoutStep> {
      const count = Math.max(1, Math.round(o.ratePerS * o.seconds));
      const written: { rev: number; at: number }[] = [];
      const puts: Promise<void>[] = [];
      const start = performance.now();
      for (let i = 0; i < count; i++) {
        const due = start + (i * 1000) / o.ratePerS;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const svc = (i * 7919) % fleet.f.services;
        const id = 1 + (i % fleet.f.replicas);
        const service = serviceName(svc);
        const key = replicaKey(service, id);
        const drain = !draining.get(key);
        draining.set(key, drain);
        const url = fleet.upstreams[(svc * fleet.f.replicas + id - 1) % fleet.upstreams.length];
        const at = performance.now();
        puts.push(
          putJson(endpoints, key, endpointRecord({ service, replica_id: id, url, draining: drain })).then(
            (rev) => {
              written.push({ rev, at });
            },
          ),
        );
      }
      await Promise.all(puts);
      // Every change reaches every proxy (or the step fails): wait for the last ones.
      const deadline = performance.now() + 30_000;
      while (written.some((w) => (seen.get(w.rev)?.length ?? 0) < n)) {
        if (performance.now() > deadline) {
          const missing = written.filter((w) => (seen.get(w.rev)?.length ?? 0) < n).length;
          throw new Error(`${missing} of ${count} changes did not reach all ${n} proxies within 30 s`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      const each: number[] = [];
      const all: number[] = [];
      for (const w of written) {
        const times = seen.get(w.rev)!.map((t) => t - w.at);
        each.push(...times);
        all.push(Math.max(...times));
      }
      return {
        proxies: n,
        changes: count,
        p50_ms: round(percentile(each, 50), 2),
        p99_ms: round(percentile(each, 99), 2),
        all_p50_ms: round(percentile(all, 50), 2),
        all_p99_ms: round(percentile(all, 99), 2),
        max_ms: round(Math.max(...all), 2),
      };
    }
  } finally {
    await Promise.all(procs.map((p) => p.stop(10_000)));
  }
}
