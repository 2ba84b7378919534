// @pure: no I/O (tools/lint-boundaries checks it)
import type { ServiceRoute } from "@switchyard/contracts";

/** What a load-balancing policy sees of a replica. The route table's replicas satisfy it. */
export interface LbReplica {
  /** Requests assigned to this replica and not yet ended (exact; see lease.ts). */
  inFlight: number;
  /** What the policy's `targetQps` made of this replica's accelerator; 1 when it has none. */
  targetQps: number;
  /** Epoch ms until which this proxy keeps the replica out of rotation (0 = not ejected). */
  ejectedUntil: number;
}

/** Per-service mutable policy state: the round-robin cursor / tie-break start. */
export interface LbState {
  cursor: number;
}

/**
 * The one function type every policy implements: pick a replica or null. `avoid` holds the
 * replicas this request already tried (retries go elsewhere). Ejected replicas are skipped
 * while any other is usable; when every untried replica is ejected one of them is still
 * picked (a short ejection must not turn into a 503 for the whole service).
 */
export type PickFn = <R extends LbReplica>(
  replicas: readonly R[],
  state: LbState,
  now: number,
  avoid: readonly R[] | null,
) => R | null;

export interface LbPolicyImpl {
  pick: PickFn;
  /** Called when the replica set changed (the array may be reordered in place). */
  onSetChange(replicas: LbReplica[], state: LbState, random: () => number): void;
  /**
   * A replica's target QPS for a policy that weighs replicas by it (instance_aware_least_load),
   * from its accelerator and the service's `target_qps_per_replica`. The route table stores the
   * result in `LbReplica.targetQps`; a policy without it gets 1 for every replica.
   */
  targetQps?(accelerator: string | null, target: ServiceRoute["target_qps_per_replica"]): number;
}

/** Lowest `score` among usable replicas, scanning from the cursor so ties rotate. */
export function pickMin<R extends LbReplica>(
  replicas: readonly R[],
  state: LbState,
  now: number,
  avoid: readonly R[] | null,
  score: (r: R) => number,
): R | null {
  const n = replicas.length;
  if (n === 0) return null;
  const start = state.cursor % n;
  let best: R | null = null;
  let bestScore = Number.POSITIVE_INFINITY;
  let bestIdx = -1;
  let fallback: R | null = null;
  let fallbackScore = Number.POSITIVE_INFINITY;
  for (let k = 0; k < n; k++) {
    const i = (start + k) % n;
    const r = replicas[i];
    if (avoid?.includes(r)) continue;
    const s = score(r);
    if (r.ejectedUntil > now) {
      if (s < fallbackScore) {
        fallback = r;
        fallbackScore = s;
      }
      continue;
    }
    if (s < bestScore) {
      best = r;
      bestScore = s;
      bestIdx = i;
    }
  }
  if (best !== null) {
    state.cursor = bestIdx + 1;
    return best;
  }
  return fallback;
}
