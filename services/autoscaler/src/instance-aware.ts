// @pure: no I/O (tools/lint-boundaries checks it)
import type { ReplicaPhase } from "@switchyard/contracts";

/** What the instance-aware rule reads of a replica: its phase and its accelerator. */
export interface ReplicaView {
  phase: ReplicaPhase;
  /** e.g. "L4"; null = CPU (SkyServe's "unknown"). */
  accelerator: string | null;
}

/** Phases whose replicas count toward capacity (SkyServe: READY, STARTING, PROVISIONING). */
const CAPACITY_PHASES: readonly ReplicaPhase[] = ["READY", "STARTING", "PROVISIONING"];

/**
 * Target QPS of an accelerator in a per-accelerator map, as SkyServe's instance-aware
 * autoscaler looks it up: the exact key, else a key whose base name (before `:`) is the
 * accelerator (`A100:1` for `A100`), else the smallest target of the map.
 */
export function acceleratorTarget(
  accelerator: string | null,
  targets: Readonly<Record<string, number>>,
): number {
  const name = accelerator ?? "unknown";
  if (Object.hasOwn(targets, name)) return targets[name];
  for (const [key, q] of Object.entries(targets)) if (key.split(":")[0] === name) return q;
  return Math.min(...Object.values(targets));
}

/**
 * SkyServe's InstanceAwareRequestRateAutoscaler (target_qps_per_replica as a map per
 * accelerator), before clipping: with `qps` at or above what the replicas that run or start can
 * take, add ceil(excess / the largest target); below it, the fewest READY replicas, largest
 * targets first, whose targets sum to more than `qps`.
 *
 * Two departures, both where SkyServe counts what cannot serve: it adds the excess to every
 * replica record (failed ones included), here to those that count toward capacity; and with no
 * replica running it falls back to min_replicas (so with min_replicas 0 it never leaves zero),
 * here it asks ceil(qps / the largest target).
 */
export function instanceAwareReplicas(
  qps: number,
  targets: Readonly<Record<string, number>>,
  replicas: readonly ReplicaView[],
): number {
  const values = Object.values(targets);
  if (values.length === 0) return 0;
  const largest = Math.max(...values);
  const running = replicas.filter((r) => CAPACITY_PHASES.includes(r.phase));
  const capacity = running.reduce((sum, r) => sum + acceleratorTarget(r.accelerator, targets), 0);
  if (qps >= capacity) return running.length + perTarget(qps - capacity, largest);

  const ready = replicas
    .filter((r) => r.phase === "READY")
    .map((r) => acceleratorTarget(r.accelerator, targets))
    .sort((a, b) => b - a);
  if (ready.length === 0) ready.push(largest);
  let n = 0;
  let sum = 0;
  for (const q of ready) {
    n++;
    sum += q;
    if (sum > qps) break;
  }
  return n;
}

/**
 * ceil(qps / target); a target of 0 takes nothing, so any load asks for everything. A rate
 * summed over proxies can land a hair above a whole multiple (4.000000000001 / 2): that is not
 * one more replica.
 */
export function perTarget(qps: number, target: number): number {
  if (qps <= 0) return 0;
  return target > 0 ? Math.max(1, Math.ceil(qps / target - 1e-9)) : Number.POSITIVE_INFINITY;
}
