import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { round } from "../proxy/stats.js";
import { now } from "./clock.js";
import { fromZero, summarizeFromZero } from "./from-zero.js";
import { LoadGen } from "./load.js";
import { parseArgs } from "./options.js";
import { plotRamp } from "./plot.js";
import { encodePng } from "./png.js";
import { ramp } from "./ramp.js";
import { reaction } from "./reaction.js";
import { rampCsv, rampTable } from "./series.js";
import { BenchSystem } from "./system.js";

/** SkyServe's answers to the same questions (shared research: skyserve.md §3-5, its polling). */
const SKYSERVE = {
  scale_from_zero: "503 until a replica is ready: its load balancer holds no request",
  reaction:
    ">= 20 s: its autoscaler decides once per 20 s polling period, on request timestamps its load balancer ships every 20 s; a new READY replica is routed at the next 20 s sync",
};

/**
 * `pnpm bench autoscale [--quick]`: Switchyard's elastic capacity measured end to end on
 * loopback with real processes and fake engines: (a) scale-from-zero, (b) reaction to a load
 * step, (c) a ramp up and down against the ideal. Progress as it goes; the ramp's table, CSV and
 * PNG in a results directory; last line, one JSON object with the figures.
 */
export async function runAutoscaleBench(argv: string[], signal?: AbortSignal): Promise<void> {
  const { profile: p, outDir } = parseArgs(argv);
  const log = (s: string) => console.log(s);
  const dir = outDir ? resolve(outDir) : mkdtempSync(join(tmpdir(), "yard-bench-autoscale-"));
  mkdirSync(dir, { recursive: true });
  const load0 = loadavg()[0];
  const t0 = now();
  const elapsed = () => `${((now() - t0) / 1000).toFixed(0)} s`;
  log(
    `autoscale bench (${p.mode}): ${p.proxies} proxies, fake engines with a ${p.startupDelayMs} ms cold start, ` +
      `--max-num-seqs ${p.maxNumSeqs}; autoscaler window ${p.windowS} s; ${cpus().length} cores, load average ${load0.toFixed(1)}`,
  );
  log(`results: ${dir}`);
  const bench = new BenchSystem(p);
  let load: LoadGen | null = null;
  // Every process runs in its own process group (so that Ctrl-C reaches none of them): an
  // interrupted run stops them all before it ends.
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await load?.close();
      await bench.dispose();
    })();
    return stopping;
  };
  const interrupted = new Promise<never>((_, reject) => {
    signal?.addEventListener(
      "abort",
      () => {
        log("interrupted: stopping every process of the run ...");
        void stop().finally(() => reject(new Error("interrupted")));
      },
      { once: true },
    );
  });
  // Settled only by a signal; a signal after the run ended must not be an unhandled rejection.
  interrupted.catch(() => {});
  const run = async () => {
    log("starting nats-server, spec, provisioner, prober, autoscaler and proxies ...");
    await bench.start();
    load = new LoadGen(bench.proxies.map((x) => x.url));
    log(`[${elapsed()}] (a) scale-from-zero: ${p.fromZero.trials} fresh services at zero replicas`);
    const ctx = { bench, load, p, log };
    const a = summarizeFromZero(await fromZero(ctx));
    log(
      `  median: first byte after ${a.total_ms} ms, engine cold start ${a.engine_cold_start_ms} ms, Switchyard's part ${a.overhead_ms} ms (goal < 100 ms; SkyServe: ${SKYSERVE.scale_from_zero})`,
    );
    log(`[${elapsed()}] (b) reaction to a load step, upscale_delay_seconds 0`);
    const b = await reaction(ctx);
    log(`[${elapsed()}] (c) a ramp up and down`);
    const c = await ramp(ctx);
    const { samples, ...rampFigures } = c;
    const table = rampTable(samples, p.ramp.tableStepS);
    const png = join(dir, "ramp.png");
    writeFileSync(join(dir, "ramp.txt"), `${table}\n`);
    writeFileSync(join(dir, "ramp.csv"), rampCsv(samples));
    writeFileSync(png, encodePng(plotRamp(samples, p.ramp.policy)));
    log(`\n${table}`);
    log(
      `\nramp: ${c.ready_replica_s} replica-seconds ready for an ideal of ${c.ideal_replica_s} (under ${c.under_replica_s}, over ${c.over_replica_s}); back to zero ${c.back_to_zero_s} s after the last request`,
    );
    log(`plot: ${png}  table: ${join(dir, "ramp.txt")}  samples: ${join(dir, "ramp.csv")}`);
    const total = load.sent.length;
    const failed = load.failed().length;
    for (const f of load.failed().slice(0, 5)) log(`FAILED ${f.service} via proxy ${f.proxy}: ${f.error}`);
    log(`[${elapsed()}] done: ${total} requests, ${failed} failed`);
    const figures = {
      bench: "autoscale",
      mode: p.mode,
      cores: cpus().length,
      loadavg_start: round(load0, 1),
      loadavg_end: round(loadavg()[0], 1),
      duration_s: round((now() - t0) / 1000, 1),
      proxies: p.proxies,
      settings: {
        engine_startup_delay_ms: p.startupDelayMs,
        max_num_seqs: p.maxNumSeqs,
        token_delay_ms: p.tokenDelayMs,
        tokens: p.tokens,
        qps_window_s: p.windowS,
        // null: the service's default (proxy reports and autoscaler decisions every 1 s).
        probe_interval_ms: p.probeIntervalMs,
      },
      scale_from_zero: { ...a, goal_ms: 100, skyserve: SKYSERVE.scale_from_zero },
      reaction: { ...b, goal_ms: 2000, skyserve: SKYSERVE.reaction },
      ramp: rampFigures,
      requests: { total, failed },
      results_dir: dir,
      png,
    };
    writeFileSync(join(dir, "figures.json"), `${JSON.stringify(figures, null, 2)}\n`);
    return figures;
  };
  try {
    const figures = await Promise.race([run(), interrupted]);
    await stop();
    console.log(JSON.stringify(figures));
  } finally {
    await stop();
  }
}
