/** Consecutive failures of a service's replicas, for replacement backoff. */
export interface Backoff {
  failures: number;
  lastFailureAt: number;
}

export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 60_000;

/** 1 s after the first failure, then 2 s, 4 s, ... capped at 60 s; 0 with no failure. */
export function backoffDelayMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 16));
}

/** When the next replacement may launch (null = now). */
export function launchAllowedAt(b: Backoff | undefined, now: number): number | null {
  if (!b || b.failures === 0) return null;
  const at = b.lastFailureAt + backoffDelayMs(b.failures);
  return at > now ? at : null;
}

export function recordFailure(b: Backoff | undefined, now: number): Backoff {
  return { failures: (b?.failures ?? 0) + 1, lastFailureAt: now };
}
