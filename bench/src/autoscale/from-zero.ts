import { median, round } from "../proxy/stats.js";
import { type Counted, countedSince, type PhaseContext } from "./phase.js";
import { serviceYaml } from "./system.js";

/** One service taken from zero by its first request. Times in ms from that request. */
export interface FromZeroTrial {
  /** First request → its first byte. */
  total_ms: number;
  /** The engine's own part: its `run` started → its port accepts connections. */
  engine_cold_start_ms: number;
  /** total − the engine's cold start: what Switchyard adds. */
  overhead_ms: number;
  breakdown_ms: {
    /** Held, demand reported, the autoscaler decided (its record's decided_at). */
    request_to_decision: number;
    /** The provisioner saw the yard-scale record and wrote the replica's record. */
    decision_to_launch: number;
    /** Process group spawned, `run` started (STARTING). */
    launch_to_run: number;
    /** The engine listens → the prober's next probe passes (endpoint put). */
    probe_wait: number;
    /** Endpoint put → the first request's proxy logged the new route. */
    ready_to_routed: number;
    /** Route applied → the held request released, sent, answered: its first byte. */
    routed_to_first_byte: number;
  };
}

export interface FromZeroResult extends Counted {
  trials: FromZeroTrial[];
}

const at = (iso: string | undefined) => (iso ? Date.parse(iso) : Number.NaN);

/**
 * (a) Scale-from-zero: per trial a fresh service with min_replicas 0 idles at zero replicas;
 * `burst` requests arrive at once (spread over the proxies) and are held until its first
 * replica is routed. Timed from the first request to its first byte, and broken down from the
 * bus records and the engine's port.
 */
export async function fromZero({ bench, load, p, log }: PhaseContext): Promise<FromZeroResult> {
  const o = bench.observer;
  const names = Array.from({ length: p.fromZero.trials }, (_, i) => `zero-${i + 1}`);
  const policy = {
    min_replicas: 0,
    max_replicas: 1,
    target_qps_per_replica: 100,
    upscale_delay_seconds: 0,
    downscale_delay_seconds: 3600,
  };
  await Promise.all(names.map((n) => bench.apply(n, serviceYaml(n, p, policy))));
  const from = load.sent.length;
  const trials: FromZeroTrial[] = [];
  for (const name of names) {
    if (o.replicasOf(name).length > 0) throw new Error(`${name} has replicas before its first request`);
    const t0 = load.sent.length;
    const first = load.send(name, 0);
    const rest = Array.from({ length: p.fromZero.burst - 1 }, (_, i) => load.send(name, (i + 1) % p.proxies));
    const [s] = await Promise.all([first, ...rest]);
    const failed = load.failed(t0).length;
    const decision = o.scale.find((x) => x.record.service === name && x.record.target_replicas > 0);
    const r = o.replicasOf(name)[0];
    const launch = r?.launchedAt ?? undefined;
    const run = r?.phases.get("STARTING");
    if (s.firstByteAt === null || !decision || !r || launch === undefined || run === undefined)
      throw new Error(`${name}: incomplete timeline (first request: ${s.error ?? "no answer"})`);
    const routedAt = r.routedAt.get(s.proxy);
    if (r.listenAt === null || r.readyAt === null || routedAt === undefined)
      throw new Error(`${name}: replica never listened, ready or routed`);
    const decidedAt = at(decision.record.decided_at ?? decision.record.updated_at);
    const total = s.firstByteAt - s.sentAt;
    const cold = r.listenAt - run;
    const t: FromZeroTrial = {
      total_ms: round(total, 1),
      engine_cold_start_ms: round(cold, 1),
      overhead_ms: round(total - cold, 1),
      breakdown_ms: {
        request_to_decision: round(decidedAt - s.sentAt, 1),
        decision_to_launch: round(launch - decidedAt, 1),
        launch_to_run: round(run - launch, 1),
        probe_wait: round(r.readyAt - r.listenAt, 1),
        ready_to_routed: round(routedAt - r.readyAt, 1),
        routed_to_first_byte: round(s.firstByteAt - routedAt, 1),
      },
    };
    trials.push(t);
    const b = t.breakdown_ms;
    log(
      `  ${name}: first byte after ${t.total_ms} ms = engine cold start ${t.engine_cold_start_ms} ms + Switchyard ${t.overhead_ms} ms ` +
        `(decision ${b.request_to_decision}, launch ${b.decision_to_launch}, run ${b.launch_to_run}, probe wait ${b.probe_wait}, routed ${b.ready_to_routed}, released ${b.routed_to_first_byte}); ` +
        `${p.fromZero.burst} held requests, ${failed} failed`,
    );
  }
  // Their replicas would idle through the rest of the run: free the CPU.
  await Promise.all(names.map((n) => bench.down(n)));
  return { trials, ...countedSince(load, from) };
}

/** The median trial, field by field. */
export function summarizeFromZero(r: FromZeroResult) {
  const m = (f: (t: FromZeroTrial) => number) => round(median(r.trials.map(f)), 1);
  return {
    trials: r.trials.length,
    total_ms: m((t) => t.total_ms),
    engine_cold_start_ms: m((t) => t.engine_cold_start_ms),
    overhead_ms: m((t) => t.overhead_ms),
    overhead_ms_each: r.trials.map((t) => t.overhead_ms),
    // The probe wait is the prober's interval at work (up to YARD_PROBE_INTERVAL_MS): the rest apart.
    overhead_less_probe_wait_ms: m((t) => t.overhead_ms - t.breakdown_ms.probe_wait),
    breakdown_ms: {
      request_to_decision: m((t) => t.breakdown_ms.request_to_decision),
      decision_to_launch: m((t) => t.breakdown_ms.decision_to_launch),
      launch_to_run: m((t) => t.breakdown_ms.launch_to_run),
      probe_wait: m((t) => t.breakdown_ms.probe_wait),
      ready_to_routed: m((t) => t.breakdown_ms.ready_to_routed),
      routed_to_first_byte: m((t) => t.breakdown_ms.routed_to_first_byte),
    },
    requests: r.requests,
    failed: r.failed,
  };
}
