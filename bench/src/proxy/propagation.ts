import type { KV } from "@switchyard/bus";
import { percentile, round } from "./stats.js";
import { putEndpoint, startSwitchyard } from "./targets.js";

export interface PropagationResult {
  proxies: number;
  changes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * N real proxy processes watch the bus; each change puts a new endpoint and is timed from just
 * before its KV write until every proxy has applied it (each proxy logs the revision right
 * after the route table routes to it; the line is read from its stdout pipe).
 */
export async function measurePropagation(
  natsUrl: string,
  kv: KV,
  upstream: string,
  proxies: number,
  changes: number,
): Promise<PropagationResult> {
  const procs = await Promise.all(Array.from({ length: proxies }, () => startSwitchyard(natsUrl)));
  const seen = new Map<number, number[]>();
  let waiter: { rev: number; resolve: () => void } | null = null;
  for (const p of procs) {
    let buf = "";
    p.proc.child.stdout!.on("data", (d: Buffer) => {
      const now = performance.now();
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) {
        const m = /"version":(\d+),"msg":"route table changed"/.exec(l);
        if (!m) continue;
        const rev = Number(m[1]);
        const at = seen.get(rev) ?? [];
        at.push(now);
        seen.set(rev, at);
        if (waiter && waiter.rev === rev && at.length === proxies) waiter.resolve();
      }
    });
  }
  const times: number[] = [];
  try {
    for (let i = 1; i <= changes; i++) {
      const t0 = performance.now();
      let resolve!: () => void;
      const all = new Promise<void>((r) => {
        resolve = r;
      });
      const rev = await putEndpoint(kv, "prop", i, upstream);
      waiter = { rev, resolve };
      if ((seen.get(rev)?.length ?? 0) === proxies) resolve();
      const timeout = setTimeout(() => resolve(), 10_000);
      await all;
      clearTimeout(timeout);
      const at = seen.get(rev) ?? [];
      if (at.length < proxies)
        throw new Error(`change ${rev} reached only ${at.length} of ${proxies} proxies in 10 s`);
      times.push(Math.max(...at) - t0);
    }
    // Sanity: every proxy's /-/routes reports the last revision.
    for (const p of procs) {
      const v = ((await (await fetch(`${p.admin}/-/routes`)).json()) as { version: number }).version;
      if (v < Math.max(...seen.keys())) throw new Error(`proxy ${p.url} reports version ${v}`);
    }
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
  return {
    proxies,
    changes,
    p50Ms: round(percentile(times, 50), 2),
    p99Ms: round(percentile(times, 99), 2),
    maxMs: round(Math.max(...times), 2),
  };
}
