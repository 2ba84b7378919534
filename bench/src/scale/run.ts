import { cpus, loadavg } from "node:os";
import { connectBus, createBucket, putJson, silentLogger } from "@switchyard/bus";
import { Buckets, replicaKey } from "@switchyard/contracts";
import { endpointRecord, routeRecord, startNats } from "@switchyard/testkit";
import { cpuSeconds } from "../proxy/cpu.js";
import { round } from "../proxy/stats.js";
import { coldStart } from "./cold-start.js";
import { measureFanout } from "./fanout.js";
import { fillFleet, serviceName } from "./fleet.js";
import { measureLookup } from "./lookup.js";
import { parseScaleArgs } from "./options.js";
import { availableMb, buildProxy, type Engine, fileLimit, memoryMb, startEngine } from "./procs.js";
import { runStreams } from "./streams.js";

const TOKEN = "bench-scale-token";
const MODEL = "fake-model";
/** The service the streams go to through the proxy (its replicas are the engines). */
const STREAM_SERVICE = "stream";
/** File descriptors a proxy keeps besides its streams' sockets (NATS, admin, listeners, stdio). */
const FD_RESERVE = 128;
/**
 * How many streams, through a proxy of how many processes: a stream holds two sockets in the
 * proxy process serving it (client, engine), so one process holds (open-file limit − reserve) / 2.
 * `asked` 0 workers = the fewest that hold them, at most one per core. With several, the kernel
 * deals the connections (NODE_CLUSTER_SCHED_POLICY=none, below), not evenly: 10% is left for it.
 */
export function streamsPlan(
  want: number,
  askedWorkers: number,
  softLimit: number,
  cores: number,
): { streams: number; workers: number; perProcess: number } {
  const perProcess = Math.max(1, Math.floor((softLimit - FD_RESERVE) / 2));
  const workers =
    askedWorkers > 0 ? askedWorkers : Math.max(1, Math.min(cores, Math.ceil(want / perProcess)));
  const cap = workers === 1 ? perProcess : Math.floor(workers * perProcess * 0.9);
  return { streams: Math.min(want, cap), workers, perProcess };
}

/** How long the proxy waits between two load reports in the fan-out proxies (see below). */
const QUIET_REPORT_MS = "600000";

/**
 * `pnpm bench scale`: a proxy at fleet scale, on loopback with a real nats-server and the real
 * buckets (created with the spec service's config), fake engines as the replicas.
 *  1. services × replicas written into yard-services / yard-endpoints (the prober's records);
 *  2. one proxy started on them: spawn → /-/ready, spawn → the last service answers, RSS, idle CPU;
 *  3. route lookup cost in this process, on the proxy's own RouteTable;
 *  4. fan-out: N proxies holding the fleet, endpoint changes at a fixed rate, write → applied;
 *  5. concurrent SSE streams direct to the engines, then the same through the proxy of (2).
 * Prints progress, then one JSON line last.
 */
export async function runScaleBench(args: string[], signal: AbortSignal): Promise<void> {
  const o = parseScaleArgs(args);
  const log = (s: string) => console.log(s);
  const fds = fileLimit();
  const load0 = loadavg()[0];
  log(
    `scale bench (${o.mode}): ${o.services} services × ${o.replicas} replicas; ${cpus().length} cores, load average ${load0.toFixed(1)}, open files ${fds.soft}/${fds.hard} (soft/hard), ${availableMb()} MB available`,
  );
  const { streams, workers, perProcess } = streamsPlan(o.streams, o.streamWorkers, fds.soft, cpus().length);
  if (streams < o.streams)
    log(
      `  streams: ${streams}, not ${o.streams}: two sockets per stream in a proxy process, whose open-file limit is ${fds.soft} (${perProcess} streams; raise it with ulimit -n, the hard limit is ${fds.hard}, or use more --stream-workers)`,
    );
  else if (workers > 1)
    log(
      `  streams: through one proxy of ${workers} processes (YARD_PROXY_WORKERS=${workers}): one process holds ${perProcess} (two sockets per stream, open-file limit ${fds.soft}; the hard limit is ${fds.hard})`,
    );

  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
  };
  signal.addEventListener("abort", () => void stopAll());
  try {
    // The proxies run as deployed, from the bundle: built now, before any start is timed.
    log(`  ${await buildProxy()}`);
    const nats = await startNats();
    stops.push(() => nats.dispose());
    const nc = await connectBus({ url: nats.url, name: "bench-scale", logger: silentLogger });
    stops.push(() => nc.close());
    const kv = {
      endpoints: await createBucket(nc, Buckets.endpoints),
      services: await createBucket(nc, Buckets.services),
    };
    const engines: Engine[] = await Promise.all(
      Array.from({ length: o.engines }, () =>
        startEngine([
          "--api-key",
          TOKEN,
          "--model",
          MODEL,
          "--max-num-seqs",
          String(streams),
          "--token-delay-ms",
          String(o.tokenDelayMs),
          "--tokens",
          String(o.tokens),
        ]),
      ),
    );
    for (const e of engines) stops.push(() => e.proc.stop(5_000));
    const upstreams = engines.map((e) => e.url);

    // 1. The fleet, and the streams' service.
    const fleet = { services: o.services, replicas: o.replicas };
    let t = performance.now();
    const lastRev = await fillFleet(kv, fleet, upstreams);
    await putJson(kv.services, STREAM_SERVICE, routeRecord({ name: STREAM_SERVICE }));
    for (const [i, url] of upstreams.entries())
      await putJson(
        kv.endpoints,
        replicaKey(STREAM_SERVICE, i + 1),
        endpointRecord({ service: STREAM_SERVICE, replica_id: i + 1, url }),
      );
    const fillS = (performance.now() - t) / 1000;
    log(
      `1. fleet written: ${o.services} routes, ${o.services * o.replicas} endpoints (revision ${lastRev}) in ${fillS.toFixed(1)} s`,
    );

    // 2. One proxy from cold, on the whole fleet, with its default settings.
    const last = `${serviceName(o.services - 1)}.localhost`;
    const cold = await coldStart(nats.url, { host: last, token: TOKEN }, {}, 600_000);
    stops.push(() => cold.proc.stop(10_000));
    const c = cold.figures;
    log(
      `2. proxy cold start: admin up ${c.boot_ms} ms, /-/ready ${c.ready_ms} ms, ${last} answered ${c.routed_ms} ms after spawn (snapshot ${c.snapshot_ms} ms); CPU ${c.cpu_s} s (${c.boot_cpu_s} s of it booting); RSS ${c.rss_mb} MB; ${c.services_routed} services`,
    );
    // Idle: nothing but its timers (each quiet service's load report once per heartbeat), once
    // past the first report of every service at start.
    const idleMs = o.mode === "quick" ? 1_000 : 5_000;
    await new Promise((r) => setTimeout(r, idleMs));
    const idle0 = cpuSeconds(cold.proc.child.pid!);
    t = performance.now();
    await new Promise((r) => setTimeout(r, idleMs));
    const idleCpuPct = Math.round(
      ((cpuSeconds(cold.proc.child.pid!) - idle0) / ((performance.now() - t) / 1000)) * 100,
    );
    const rssNow = memoryMb(cold.proc.child.pid!).rss;
    log(
      `   idle, ${idleMs / 1000} s after start (a load report per quiet service per heartbeat): ${idleCpuPct}% of a core; RSS now ${rssNow} MB`,
    );

    // 3. Lookup cost.
    const lookup = measureLookup(fleet, o.mode === "quick" ? 200_000 : 2_000_000);
    log(
      `3. route lookup (Host → service → replica): ${lookup.fleet_ns} ns with the fleet, ${lookup.one_service_ns} ns with one service (×${lookup.ratio}); table build ${lookup.build_ms} ms CPU, ${lookup.heap_mb} MB heap`,
    );

    // 4. Fan-out, as many proxies as memory allows (each holds the whole fleet).
    const perProxyMb = Math.max(c.rss_mb, 50);
    const fit = Math.max(1, Math.floor((availableMb() * 0.5) / perProxyMb));
    const proxies = Math.min(o.proxies, fit);
    log(
      `4. fan-out: ${proxies} proxy processes${proxies < o.proxies ? ` (not ${o.proxies}: half the available memory fits ${fit} of ${perProxyMb} MB)` : ""}, ${o.ratePerS} endpoint changes/s for ${o.fanoutSeconds} s per step`,
    );
    const fanout = await measureFanout(
      nats.url,
      kv.endpoints,
      { f: fleet, upstreams },
      {
        proxies,
        minProxies: Math.min(o.minProxies, proxies),
        ratePerS: o.ratePerS,
        seconds: o.fanoutSeconds,
        startConcurrency: 2,
      },
      // Each proxy would publish a load report per service per second (10k × N messages/s here).
      { YARD_PROXY_REPORT_MS: QUIET_REPORT_MS },
      log,
    );

    // 5. Streams: direct to the engines, then through a proxy holding the fleet (same engines):
    // the cold-started one, or when one process cannot hold them, one proxy of several.
    log(
      `5. ${streams} concurrent SSE streams, ${o.tokens} tokens ${o.tokenDelayMs} ms apart, over ${o.engines} engines`,
    );
    let streamsProxy = cold;
    if (workers > 1) {
      await cold.proc.stop(10_000); // its CPU and memory are not the streams proxy's
      streamsProxy = await coldStart(
        nats.url,
        { host: `${STREAM_SERVICE}.localhost`, token: TOKEN },
        // The kernel deals the connections: node:cluster's default round-robin hands each one
        // over from the primary by IPC, one at a time per worker, and with thousands of streams
        // already flowing that took 73 s for 10k connections here (12 s direct), so they were
        // never all open at once.
        { YARD_PROXY_WORKERS: String(workers), NODE_CLUSTER_SCHED_POLICY: "none" },
        600_000,
      );
      stops.push(() => streamsProxy.proc.stop(10_000));
      const w = streamsProxy.figures;
      log(
        `   the streams' proxy, ${workers} processes (NODE_CLUSTER_SCHED_POLICY=none): /-/ready ${w.ready_ms} ms after spawn, RSS ${w.rss_mb} MB, ${w.services_routed} services per worker`,
      );
    }
    const spec = {
      host: null,
      token: TOKEN,
      model: MODEL,
      count: streams,
      tokens: o.tokens,
      connectConcurrency: 400, // under the listen backlog (511): no SYN dropped and retried
      timeoutMs: o.tokens * o.tokenDelayMs + 120_000,
    };
    const direct = await runStreams({ ...spec, urls: upstreams }, null);
    log(
      `   direct:  gap p50 ${direct.gap_p50_ms} ms, p99 ${direct.gap_p99_ms} ms, p99.9 ${direct.gap_p999_ms} ms (${direct.gaps} gaps, all open for ${direct.window_ms} ms, ${direct.failed} failed)`,
    );
    const through = await runStreams(
      { ...spec, urls: [streamsProxy.url], host: `${STREAM_SERVICE}.localhost` },
      streamsProxy.proc.child.pid!,
    );
    log(
      `   through: gap p50 ${through.gap_p50_ms} ms, p99 ${through.gap_p99_ms} ms, p99.9 ${through.gap_p999_ms} ms (${through.gaps} gaps, all open for ${through.window_ms} ms, ${through.failed} failed); proxy CPU ${through.proxy_cpu_pct}% of a core, RSS ${through.proxy_rss_mb} MB`,
    );
    if (through.failed > 0)
      log(`   the proxy's last lines:\n${streamsProxy.proc.lines.slice(-3).join("\n")}`);
    const added = {
      p50_ms: round(through.gap_p50_ms - direct.gap_p50_ms, 2),
      p99_ms: round(through.gap_p99_ms - direct.gap_p99_ms, 2),
      p999_ms: round(through.gap_p999_ms - direct.gap_p999_ms, 2),
    };
    log(
      `   added between tokens by the proxy: p50 ${added.p50_ms} ms, p99 ${added.p99_ms} ms, p99.9 ${added.p999_ms} ms`,
    );

    const fan = fanout.steps[0];
    console.log(
      JSON.stringify({
        bench: "scale",
        mode: o.mode,
        cores: cpus().length,
        loadavg_start: round(load0, 1),
        loadavg_end: round(loadavg()[0], 1),
        open_files: fds,
        fleet: {
          services: o.services,
          replicas: o.replicas,
          endpoints: o.services * o.replicas,
          fill_s: round(fillS, 1),
        },
        cold_start: { ...c, idle_cpu_pct: idleCpuPct, rss_mb_now: rssNow },
        lookup,
        fanout: { ...fanout, p99_ms: fan.p99_ms, all_p99_ms: fan.all_p99_ms },
        streams: {
          asked: o.streams,
          run: streams,
          proxy_workers: workers,
          per_process_cap: perProcess,
          engines: o.engines,
          token_delay_ms: o.tokenDelayMs,
          tokens: o.tokens,
          direct,
          through,
          added,
        },
        targets: {
          routed_within_2s: c.routed_ms <= 2_000,
          rss_under_300mb: c.rss_mb < 300,
          fanout_p99_under_100ms: fan.all_p99_ms < 100,
          added_gap_p99_under_5ms: added.p99_ms < 5,
          streams_rss_under_1gb: (through.proxy_rss_mb ?? 0) < 1024,
        },
      }),
    );
  } finally {
    await stopAll();
  }
}
