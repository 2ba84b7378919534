// @pure: no I/O (tools/lint-boundaries checks it)
import type { LbPolicyImpl, LbReplica, LbState } from "./types.js";

/**
 * SkyServe's round_robin: on every replica-set change the order is shuffled (so a scale-up
 * does not send the next request of every proxy to the same first replica) and the cursor
 * resets; then each pick takes the next usable replica.
 */
export const roundRobin: LbPolicyImpl = {
  pick(replicas, state, now, avoid) {
    const n = replicas.length;
    if (n === 0) return null;
    let fallback: (typeof replicas)[number] | null = null;
    for (let k = 0; k < n; k++) {
      const i = (state.cursor + k) % n;
      const r = replicas[i];
      if (avoid?.includes(r)) continue;
      if (r.ejectedUntil > now) {
        fallback ??= r;
        continue;
      }
      state.cursor = (i + 1) % n;
      return r;
    }
    return fallback;
  },
  onSetChange(replicas: LbReplica[], state: LbState, random: () => number) {
    shuffle(replicas, random);
    state.cursor = 0;
  },
};

export function shuffle<T>(a: T[], random: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
