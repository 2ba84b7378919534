import { readdirSync, readFileSync } from "node:fs";

/**
 * Process facts from /proc (Linux). A zombie counts as gone: on hosts whose init does not reap
 * orphans (some containers and sandboxes) a killed replica stays a zombie forever, yet it holds
 * no port and no GPU. Without /proc, kill(pid, 0) is the fallback.
 */
export interface ProcStat {
  state: string;
  pgrp: number;
  /** Start time in clock ticks since boot: with the pid, identifies one process (pids are reused). */
  startTime: number;
}

export function procStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may contain spaces: parse after the last ')'.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: f[0], pgrp: Number(f[2]), startTime: Number(f[19]) };
}

const hasProc = (() => {
  try {
    readFileSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
})();

/** True while the process exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  if (!hasProc) return signalZero(pid);
  const s = procStat(pid);
  return s !== null && s.state !== "Z" && s.state !== "X";
}

/** True while any non-zombie process of the process group exists. */
export function groupRunning(pgid: number): boolean {
  if (!hasProc) return signalZero(-pgid);
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(Number(name));
    if (s && s.pgrp === pgid && s.state !== "Z" && s.state !== "X") return true;
  }
  return false;
}

export function startTimeOf(pid: number): number | null {
  return procStat(pid)?.startTime ?? null;
}

function signalZero(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
