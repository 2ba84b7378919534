/**
 * When the launcher restarts a process that exited on its own. Pure: the history in, a decision
 * out. Like systemd's `Restart=on-failure` with `RestartSec` growing per attempt and Kubernetes'
 * CrashLoopBackOff: the first restart comes after `initialMs`, each further consecutive crash
 * doubles the delay up to `maxMs`, and a crash-looping process keeps being retried at the cap
 * (never given up on: a port or a disk freed later lets it come back without a person).
 */
export interface RestartPolicy {
  initialMs: number;
  maxMs: number;
}

export interface RestartDecision {
  delayMs: number;
  /** Crashes in a row, this one included (a run that lasted `maxMs` or longer starts over). */
  consecutive: number;
  /** The delay has reached the cap: say so, the process is not coming up by itself. */
  crashLooping: boolean;
}

/**
 * `consecutiveBefore`: crashes in a row before this one; `ranMs`: how long this run lasted.
 * A run at least as long as the longest delay counts as healthy, so an occasional crash of a
 * long-running service is restarted quickly again.
 */
export function nextRestart(p: RestartPolicy, consecutiveBefore: number, ranMs: number): RestartDecision {
  const consecutive = ranMs >= p.maxMs ? 1 : consecutiveBefore + 1;
  const delayMs = Math.min(p.maxMs, p.initialMs * 2 ** Math.min(consecutive - 1, 30));
  return { delayMs, consecutive, crashLooping: consecutive > 1 && delayMs >= p.maxMs };
}

/** "exit code 1" / "signal SIGKILL", from a Child's `exited` value. */
export function describeExit(code: number | string): string {
  return typeof code === "number" ? `exit code ${code}` : `signal ${code}`;
}

const secs = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

/** The launcher's line for an unexpected exit and the restart it schedules. */
export function restartLine(name: string, code: number | string, ranMs: number, d: RestartDecision): string {
  const head = `${name} exited unexpectedly (${describeExit(code)}) after ${secs(ranMs)}`;
  if (d.crashLooping)
    return `${head}; crash-looping (${d.consecutive} crashes in a row): restarting every ${secs(d.delayMs)} until it stays up (see its lines above)`;
  return `${head}; restarting it in ${secs(d.delayMs)}`;
}
