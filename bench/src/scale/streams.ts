import { startTs } from "@switchyard/testkit";
import { cpuSeconds } from "../proxy/cpu.js";
import { treeRssMb } from "./procs.js";
import type { StreamSpec, StreamsResult } from "./stream-stats.js";

export interface StreamsPhase extends StreamsResult {
  /**
   * The proxy while the streams ran (null for direct): CPU share of one core, RSS peak; both
   * summed over its processes (a cluster primary and its workers).
   */
  proxy_cpu_pct: number | null;
  proxy_rss_mb: number | null;
}

/**
 * One phase: a stream-client process opens every stream at once and times the tokens; the
 * proxy (when `proxyPid`) is sampled meanwhile for CPU and memory.
 */
export async function runStreams(spec: StreamSpec, proxyPid: number | null): Promise<StreamsPhase> {
  const client = startTs("bench/src/scale/stream-client.ts", [JSON.stringify(spec)]);
  const c0 = proxyPid ? cpuSeconds(proxyPid) : 0;
  const t0 = performance.now();
  let rss = 0;
  const sample = proxyPid
    ? setInterval(() => {
        rss = Math.max(rss, treeRssMb(proxyPid));
      }, 250)
    : null;
  try {
    const line = await client.waitForLine(/^\{.*"streams"/, spec.timeoutMs + 120_000);
    const result = JSON.parse(line) as StreamsResult;
    const wallS = (performance.now() - t0) / 1000;
    return {
      ...result,
      proxy_cpu_pct: proxyPid ? Math.round(((cpuSeconds(proxyPid) - c0) / wallS) * 100) : null,
      proxy_rss_mb: proxyPid ? rss : null,
    };
  } finally {
    if (sample) clearInterval(sample);
    await client.stop(5_000);
  }
}
