import { runProxyBench } from "./proxy/run.js";

// `pnpm bench <name>`: benchmarks (not tests). Each is bounded and loopback-only.
const benches: Record<string, () => Promise<void>> = { proxy: runProxyBench };
const name = process.argv[2];
const bench = name ? benches[name] : undefined;
if (!bench) {
  console.error(`usage: pnpm bench <${Object.keys(benches).join("|")}>`);
  process.exit(2);
}
await bench();
process.exit(0);
