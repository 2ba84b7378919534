import type { LbReplica } from "./lb/types.js";

export interface OutlierOptions {
  /** YARD_PROXY_EJECT_AFTER: consecutive failures that take a replica out of rotation. */
  ejectAfter: number;
  /** YARD_PROXY_EJECT_MAX_SHARE: at most this share of a service's replicas out at once. */
  maxShare: number;
}

/**
 * How many of `total` replicas may be out of rotation at once: `maxShare` of them, rounded
 * down, and at least one (as Envoy's max_ejection_percent, which always allows one). Ejecting
 * the only usable replica costs nothing: the pick falls back to an ejected replica when no other
 * is left, and the ejection's hint makes the prober look at it at once.
 */
export function ejectionCap(total: number, maxShare: number): number {
  return Math.max(1, Math.floor(total * maxShare));
}

/**
 * Outlier detection per proxy process (Envoy's consecutive-errors detector): failures a replica
 * is blamed for (see failure.ts) count up, any response from it resets the count. A replica
 * that took no byte is ejected at once; others after `ejectAfter` in a row. Either way only
 * while fewer than the cap of the service's replicas are out.
 */
export class Outlier<R extends LbReplica> {
  private readonly failures = new WeakMap<R, number>();
  /** Replicas with a count above 0: lets `success` skip the map on the hot path. */
  private counting = 0;

  constructor(private readonly opts: OutlierOptions) {}

  /** The replica answered (any status): its run of failures is over. */
  success(r: R): void {
    if (this.counting === 0) return;
    if (this.failures.delete(r)) this.counting--;
  }

  /**
   * A failure `r` is to blame for. `now`: it took no byte (connect refused or reset). Returns
   * true when `r` is to be ejected (its count starts again from 0).
   */
  failure(r: R, immediate: boolean, replicas: readonly R[], now: number): boolean {
    const prev = this.failures.get(r) ?? 0;
    const n = prev + 1;
    const due = immediate || n >= this.opts.ejectAfter;
    if (due && this.allowed(r, replicas, now)) {
      if (prev > 0) {
        this.failures.delete(r);
        this.counting--;
      }
      return true;
    }
    if (prev === 0) this.counting++;
    this.failures.set(r, n);
    return false;
  }

  private allowed(r: R, replicas: readonly R[], now: number): boolean {
    if (r.ejectedUntil > now) return true; // already out: re-ejecting it takes no one else out
    let out = 0;
    for (const x of replicas) if (x.ejectedUntil > now) out++;
    return out < ejectionCap(replicas.length, this.opts.maxShare);
  }
}
