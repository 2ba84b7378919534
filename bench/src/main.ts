import { runAutoscaleBench } from "./autoscale/run.js";
import { runProxyBench } from "./proxy/run.js";

// `pnpm bench <name> [args]`: benchmarks (not tests). Each is bounded and loopback-only.
const benches: Record<string, (args: string[]) => Promise<void>> = {
  proxy: runProxyBench,
  autoscale: runAutoscaleBench,
};
const name = process.argv[2];
const bench = name ? benches[name] : undefined;
if (!bench) {
  console.error(`usage: pnpm bench <${Object.keys(benches).join("|")}> [args]`);
  process.exit(2);
}
await bench(process.argv.slice(3));
process.exit(0);
