// @pure: no I/O (tools/lint-boundaries checks it)
/**
 * The readiness verdict of one replica, as SkyServe's replica manager decides it
 * (research/skyserve.md §3). Pure: previous state + one probe outcome + now → next state and
 * the actions the prober must take. No I/O, no clock of its own.
 */

/** What one probe got: an HTTP status, or an error (no response at all). */
export type ProbeOutcome = { status: number } | { error: string };

export interface VerdictConfig {
  method: "GET" | "POST";
  path: string;
  /** Never-ready replicas fail once their first failed probe is older than this. */
  initialDelaySeconds: number;
  /** Once-ready replicas fail after failing every probe for this long. */
  failureThresholdMs: number;
}

export interface ProbeState {
  /** The endpoint is published (the replica is in the ready set). */
  ready: boolean;
  /** Time (ms) of the first probe that ever passed; null = never ready. */
  firstReadyAt: number | null;
  /** Time (ms) of the first failed probe of the current run of failures; null while passing. */
  failingSince: number | null;
  /** replica.failed was emitted: the verdict is final, no more probes or actions. */
  failed: boolean;
}

export type FailedPhase = "FAILED_INITIAL_DELAY" | "FAILED_PROBING";

export type ProbeAction =
  | { kind: "put-endpoint" }
  | { kind: "delete-endpoint" }
  | { kind: "ready" }
  | { kind: "unready"; message: string }
  | {
      kind: "failed";
      phase: FailedPhase;
      reason: "InitialDelayExceeded" | "ProbeFailing";
      message: string;
    };

export interface Verdict {
  state: ProbeState;
  actions: ProbeAction[];
}

export const INITIAL_STATE: ProbeState = Object.freeze({
  ready: false,
  firstReadyAt: null,
  failingSince: null,
  failed: false,
});

/** Ready ⇔ HTTP status exactly 200 (SkyServe: not any 2xx). */
export function passed(o: ProbeOutcome): boolean {
  return "status" in o && o.status === 200;
}

/** "HTTP 401" or the error ("connection refused"); never headers, so safe to log and show. */
export function describeOutcome(o: ProbeOutcome): string {
  return "status" in o ? `HTTP ${o.status}` : o.error;
}

export function verdict(prev: ProbeState, o: ProbeOutcome, now: number, cfg: VerdictConfig): Verdict {
  if (prev.failed) return { state: prev, actions: [] };
  if (passed(o)) {
    const state: ProbeState = {
      ready: true,
      firstReadyAt: prev.firstReadyAt ?? now,
      failingSince: null,
      failed: false,
    };
    return { state, actions: prev.ready ? [] : [{ kind: "put-endpoint" }, { kind: "ready" }] };
  }
  const probe = `readiness probe ${cfg.method} ${cfg.path} got ${describeOutcome(o)}`;
  const failingSince = prev.failingSince ?? now;
  const forSec = Math.floor((now - failingSince) / 1000);
  const actions: ProbeAction[] = [];
  if (prev.ready) {
    actions.push({ kind: "delete-endpoint" }, { kind: "unready", message: probe });
  }
  const state: ProbeState = { ...prev, ready: false, failingSince };
  if (prev.firstReadyAt === null) {
    // Never ready: the initial delay is counted from the first (failed) probe, as SkyServe does.
    if (now - failingSince > cfg.initialDelaySeconds * 1000) {
      actions.push({
        kind: "failed",
        phase: "FAILED_INITIAL_DELAY",
        reason: "InitialDelayExceeded",
        message: `${probe} for ${forSec} s (initial_delay_seconds ${cfg.initialDelaySeconds})`,
      });
      state.failed = true;
    }
  } else if (now - failingSince >= cfg.failureThresholdMs) {
    actions.push({
      kind: "failed",
      phase: "FAILED_PROBING",
      reason: "ProbeFailing",
      message: `${probe}; not ready for ${forSec} s (threshold ${Math.round(cfg.failureThresholdMs / 1000)} s)`,
    });
    state.failed = true;
  }
  return { state, actions };
}
