// @pure: no I/O (tools/lint-boundaries checks it)
import type { ReplicaPolicy, RouteReplicaPolicy, ScaleReason } from "@switchyard/contracts";
import { instanceAwareReplicas, perTarget, type ReplicaView } from "./instance-aware.js";
import type { Evidence } from "./load-book.js";

/** What a decision reads of a service's spec (its yard-services route). */
export interface Policy extends RouteReplicaPolicy {
  target_qps_per_replica: ReplicaPolicy["target_qps_per_replica"];
}

/**
 * The autoscaler's memory of a service between decisions: SkyServe's `target_num_replicas`
 * (before num_overprovision) and its hysteresis, kept as the time the load started asking for
 * a change instead of a count of 20 s periods.
 */
export interface ScaleState {
  /** The target before num_overprovision. */
  base: number;
  /** The spec revision `base` was decided for (0: unknown, e.g. a record from an older writer). */
  revision: number;
  /** The load has asked for more (up) or fewer replicas since `since` (ms). */
  pending: { up: boolean; since: number } | null;
  /** When `base` last changed (ms). */
  decidedAt: number;
}

export interface DecisionInput {
  revision: number;
  policy: Policy;
  load: { qps: number; held: number; evidence: Evidence };
  /** Every replica record of the service (the instance-aware rule reads phase and accelerator). */
  replicas: readonly ReplicaView[];
}

export interface Decision {
  state: ScaleState;
  /** target_replicas: base + num_overprovision. */
  target: number;
  /** What the load asks for now (+ num_overprovision); null when nothing can be said yet. */
  wanted: number | null;
  reason: ScaleReason;
}

/**
 * One decision for one service, SkyServe's rules (research/skyserve.md §5) at bus speed:
 * - no target_qps_per_replica → min_replicas;
 * - wanted = ceil(qps / target) (or the instance-aware rule for a map per accelerator), clipped
 *   to [min, max]; requests held at zero replicas ask for at least one;
 * - hysteresis: the target moves to `wanted` once the load has asked for more (fewer) for
 *   upscale_delay_seconds (downscale_delay_seconds) without a break; equal resets both;
 * - from a target of 0 the target jumps at once (no delay), as does a new spec revision;
 * - final target = target + num_overprovision.
 * Missing data never lowers the target: with evidence "none" nothing moves (held requests at
 * zero still scale up), with "partial" only upward moves happen.
 */
export function decide(prev: ScaleState | null, input: DecisionInput, now: number): Decision {
  const p = input.policy;
  const hi = Math.max(p.max_replicas, p.min_replicas);
  const clip = (n: number) => Math.min(hi, Math.max(p.min_replicas, n));
  const result = (
    base: number,
    reason: ScaleReason,
    pending: ScaleState["pending"],
    wanted: number | null,
    revision = input.revision,
  ): Decision => {
    const changed = !prev || prev.base !== base;
    return {
      state: { base, revision, pending, decidedAt: changed ? now : prev.decidedAt },
      target: base + p.num_overprovision,
      wanted: wanted === null ? null : wanted + p.num_overprovision,
      reason,
    };
  };

  if (p.target_qps_per_replica === null) return result(p.min_replicas, "min_replicas", null, p.min_replicas);

  // SkyServe starts at min_replicas and re-clips its target when the spec changes.
  const current = clip(prev?.base ?? p.min_replicas);
  const { load } = input;
  const asked = askedReplicas(input);
  const wanted = clip(asked);

  if (load.evidence === "none") {
    // Requests waiting at zero replicas are evidence enough: nobody else will serve them.
    if (current === 0 && load.held > 0) return result(wanted, "from_zero", null, wanted);
    // Keep the revision: a spec changed meanwhile is recomputed once there is load to go by.
    return result(current, "paused", null, null, prev?.revision ?? input.revision);
  }
  const full = load.evidence === "full";
  if (prev && prev.revision !== input.revision) {
    // A new revision: recomputed without the delays (SkyServe's update_version), but not
    // lowered on a partial window.
    return result(full ? wanted : Math.max(wanted, current), "spec_changed", null, wanted);
  }
  if (current === 0 && wanted > 0) return result(wanted, "from_zero", null, wanted);

  const steady = asked > hi ? "max_replicas" : asked <= p.min_replicas ? "min_replicas" : "qps";
  if (wanted === current) return result(current, steady, null, wanted);
  const up = wanted > current;
  if (!up && !full) return result(current, "paused", null, wanted);
  const since = prev?.pending?.up === up ? prev.pending.since : now;
  const delayMs = 1000 * (up ? p.upscale_delay_seconds : p.downscale_delay_seconds);
  if (now - since >= delayMs) return result(wanted, steady, null, wanted);
  return result(current, up ? "upscale_delay" : "downscale_delay", { up, since }, wanted);
}

/** Replicas the load asks for, before clipping. */
function askedReplicas(input: DecisionInput): number {
  const { qps, held } = input.load;
  const t = input.policy.target_qps_per_replica;
  const n =
    t === null
      ? 0
      : typeof t === "number"
        ? perTarget(qps, t)
        : instanceAwareReplicas(qps, t, input.replicas);
  return held > 0 ? Math.max(1, n) : n;
}
