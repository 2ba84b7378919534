import { median, round } from "../proxy/stats.js";
import { now } from "./clock.js";
import type { ReplicaSeen } from "./observer.js";
import { type Counted, countedSince, type PhaseContext } from "./phase.js";
import { serviceYaml } from "./system.js";

/** (b) Times in ms from the first request of the step. */
export interface ReactionResult extends Counted {
  qps: number;
  target_qps_per_replica: number;
  /** The autoscaler's first decision above min_replicas (its record's decided_at). */
  decision_ms: number;
  /** Its decision for max_replicas. */
  full_decision_ms: number;
  /** The first new replica routed by every proxy, and the last. */
  first_routed_ms: number;
  all_routed_ms: number;
  /** The same, less each replica's engine cold start (its `run` started → it listened). */
  first_routed_minus_cold_start_ms: number;
  all_routed_minus_cold_start_ms: number;
  engine_cold_start_ms: number[];
  /** Medians over the new replicas, ms: the parts of "routed" (see FromZeroTrial). */
  breakdown_ms: {
    decision_to_launch: number;
    launch_to_run: number;
    probe_wait: number;
    ready_to_routed: number;
  };
  /** The first response from a new replica (its first byte), less that replica's cold start. */
  first_served_ms: number;
  first_served_minus_cold_start_ms: number;
  /** Requests of the step the new replicas answered (each response names its replica). */
  served_by_new_replicas: number;
}

const SERVICE = "step";
/** The load goes on this long after the last new replica is routed, so that they serve. */
const AFTER_MS = 2000;

/**
 * (b) Reaction: a service at min_replicas 1 with upscale_delay_seconds 0 gets a load step to
 * `qps` (it asks for max_replicas). Timed: the autoscaler's decisions and each new replica routed
 * by every proxy, and the first request one of them answered; the load runs until the last is
 * routed, and a little longer.
 */
export async function reaction({ bench, load, p, log }: PhaseContext): Promise<ReactionResult> {
  const o = bench.observer;
  const { qps, targetQps, maxReplicas, timeoutS } = p.reaction;
  const policy = {
    min_replicas: 1,
    max_replicas: maxReplicas,
    target_qps_per_replica: targetQps,
    upscale_delay_seconds: 0,
    downscale_delay_seconds: 3600,
  };
  await bench.apply(SERVICE, serviceYaml(SERVICE, p, policy));
  const first = () => o.replicasOf(SERVICE)[0];
  await o.until(
    () => first() !== undefined && o.routedByAll(first()) !== null && o.readyCount(SERVICE) === 1,
    `${SERVICE}'s first replica routed by every proxy`,
    60_000,
    () => o.describe(SERVICE),
  );
  // Decided from a full window of idle reports: the step is the only change.
  await o.until(
    () => {
      const s = o.latestScale(SERVICE)?.record;
      return s?.reason === "min_replicas" && s.target_replicas === 1;
    },
    `the autoscaler deciding ${SERVICE} from its (idle) load`,
    60_000,
    () => o.describe(SERVICE),
  );
  log(
    `  ${SERVICE}: 1 replica routed; load step to ${qps} QPS (target ${targetQps} QPS per replica, max ${maxReplicas})`,
  );
  const fresh = (t0: number) => o.replicasOf(SERVICE).filter((r) => (r.launchedAt ?? 0) >= t0);
  /** When the last new replica was routed by every proxy (null: not yet). */
  const allRouted = (t0: number) => {
    const rs = fresh(t0);
    const at = rs.map((r) => o.routedByAll(r));
    return rs.length >= maxReplicas - 1 && at.every((x) => x !== null) ? Math.max(...(at as number[])) : null;
  };
  const from = load.sent.length;
  const t0 = now();
  await load.run(
    SERVICE,
    () => qps,
    timeoutS,
    () => now() - (allRouted(t0) ?? Infinity) > AFTER_MS,
  );
  if (allRouted(t0) === null)
    throw new Error(
      `${SERVICE}: ${maxReplicas} replicas not routed within ${timeoutS} s of the step: ${o.describe(SERVICE)}`,
    );
  const news = fresh(t0);
  await load.drain();
  const newIds = new Map(news.map((r) => [r.id, r]));
  const byNew = load.sent.slice(from).filter((s) => s.replica !== null && newIds.has(s.replica));
  const firstServed = byNew.reduce((a, s) => (s.firstByteAt! < a.firstByteAt! ? s : a), byNew[0]);
  if (!firstServed) throw new Error(`${SERVICE}: no request was answered by a new replica`);
  const coldOf = (r: ReplicaSeen) => r.listenAt! - r.phases.get("STARTING")!;
  const decided = (n: number) => {
    const s = o.scale.find(
      (x) => x.at >= t0 && x.record.service === SERVICE && x.record.target_replicas >= n,
    );
    return s ? Date.parse(s.record.decided_at ?? s.record.updated_at) - t0 : Number.NaN;
  };
  const routed = news.map((r) => o.routedByAll(r)! - t0);
  const cold = news.map(coldOf);
  const lessCold = routed.map((x, i) => x - cold[i]);
  // The k-th new replica (by id) was asked for by the first decision for 1 + k replicas.
  const askedAt = (r: ReplicaSeen) => t0 + decided(1 + news.indexOf(r) + 1);
  const part = (f: (r: ReplicaSeen) => number) => round(median(news.map(f)), 1);
  const res: ReactionResult = {
    qps,
    target_qps_per_replica: targetQps,
    decision_ms: round(decided(2), 1),
    full_decision_ms: round(decided(maxReplicas), 1),
    first_routed_ms: round(Math.min(...routed), 1),
    all_routed_ms: round(Math.max(...routed), 1),
    first_routed_minus_cold_start_ms: round(Math.min(...lessCold), 1),
    all_routed_minus_cold_start_ms: round(Math.max(...lessCold), 1),
    engine_cold_start_ms: cold.map((c) => round(c, 1)),
    breakdown_ms: {
      decision_to_launch: part((r) => r.launchedAt! - askedAt(r)),
      launch_to_run: part((r) => r.phases.get("STARTING")! - r.launchedAt!),
      probe_wait: part((r) => r.readyAt! - r.listenAt!),
      ready_to_routed: part((r) => o.routedByAll(r)! - r.readyAt!),
    },
    first_served_ms: round(firstServed.firstByteAt! - t0, 1),
    first_served_minus_cold_start_ms: round(
      firstServed.firstByteAt! - t0 - coldOf(newIds.get(firstServed.replica!)!),
      1,
    ),
    served_by_new_replicas: byNew.length,
    ...countedSince(load, from),
  };
  log(
    `  decided ${res.decision_ms} ms after the step (max_replicas at ${res.full_decision_ms} ms); new replicas routed by every proxy at ` +
      `${res.first_routed_ms}..${res.all_routed_ms} ms, less their engines' cold start ${res.first_routed_minus_cold_start_ms}..${res.all_routed_minus_cold_start_ms} ms ` +
      `(median: launch ${res.breakdown_ms.decision_to_launch} after the decision that asked for it, run ${res.breakdown_ms.launch_to_run}, ` +
      `probe wait ${res.breakdown_ms.probe_wait}, routed ${res.breakdown_ms.ready_to_routed}); ` +
      `the first answer from one at ${res.first_served_ms} ms (${res.first_served_minus_cold_start_ms} ms less its cold start); ` +
      `they answered ${res.served_by_new_replicas} of ${res.requests} requests, ${res.failed} failed`,
  );
  await bench.down(SERVICE);
  return res;
}
