// @pure: no I/O (tools/lint-boundaries checks it)
import { type LbPolicyImpl, type LbReplica, pickMin } from "./types.js";

const inFlight = (r: LbReplica) => r.inFlight;
const perTarget = (r: LbReplica) => r.inFlight / r.targetQps;

/**
 * Fewest in-flight requests. Ties rotate from the cursor instead of always taking the first
 * replica (SkyServe takes list order), so light traffic still spreads over every replica.
 */
export const leastLoad: LbPolicyImpl = {
  pick: (replicas, state, now, avoid) => pickMin(replicas, state, now, avoid, inFlight),
  onSetChange() {},
};

/** In-flight divided by the target QPS of the replica's accelerator (SkyServe's policy). */
export const instanceAwareLeastLoad: LbPolicyImpl = {
  pick: (replicas, state, now, avoid) => pickMin(replicas, state, now, avoid, perTarget),
  onSetChange() {},
  targetQps: targetQpsFor,
};

/**
 * Target QPS of one replica: a number applies to all; a map is looked up by the exact
 * accelerator, then by its base name before ':' (keys may carry a count, `A100:1`), else 1.0.
 */
export function targetQpsFor(
  accelerator: string | null,
  target: number | Record<string, number> | null,
): number {
  let v: number | undefined;
  if (typeof target === "number") v = target;
  else if (target && accelerator) {
    v = target[accelerator];
    if (v === undefined) {
      const base = accelerator.split(":")[0];
      v = target[base];
      if (v === undefined) {
        for (const [k, q] of Object.entries(target)) if (k.split(":")[0] === base) v ??= q;
      }
    }
  }
  return v !== undefined && v > 0 ? v : 1;
}
