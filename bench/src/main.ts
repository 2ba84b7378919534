import { UsageError } from "./autoscale/options.js";
import { runAutoscaleBench } from "./autoscale/run.js";
import { runProxyBench } from "./proxy/run.js";
import { runScaleBench } from "./scale/run.js";
import { runStandbyBench } from "./standby/run.js";

// `pnpm bench <name> [args]`: benchmarks (not tests). Each is bounded and loopback-only.
const benches: Record<string, (args: string[], signal: AbortSignal) => Promise<void>> = {
  proxy: runProxyBench,
  autoscale: runAutoscaleBench,
  standby: runStandbyBench,
  scale: runScaleBench,
};
const name = process.argv[2];
const bench = name ? benches[name] : undefined;
if (!bench) {
  console.error(`usage: pnpm bench <${Object.keys(benches).join("|")}> [args]`);
  process.exit(2);
}
// Ctrl-C or SIGTERM: the bench stops what it started, then this process ends.
const interrupt = new AbortController();
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => interrupt.abort());
try {
  await bench(process.argv.slice(3), interrupt.signal);
} catch (err) {
  if (err instanceof UsageError) {
    console.error(err.message);
    process.exit(2);
  }
  console.error(String(err instanceof Error && !interrupt.signal.aborted ? err.stack : err));
  process.exit(interrupt.signal.aborted ? 130 : 1);
}
process.exit(0);
