import { existsSync, readdirSync, readFileSync } from "node:fs";

/**
 * Process facts from /proc (Linux), for whoever must know whether a process or a process group
 * still runs: the provisioner (its replicas), `pnpm start` (its children and their replicas),
 * tests (nothing left behind). An exited process nobody has reaped yet (a zombie: on hosts whose
 * init does not reap orphans, some containers and sandboxes, it stays one forever) counts as
 * gone, although `kill(pid, 0)` still succeeds on it: it holds no port and no GPU. Without /proc,
 * signal 0 is the fallback.
 */
export interface ProcStat {
  state: string;
  ppid: number;
  pgrp: number;
  /** Clock ticks since boot: with the pid, names one process (pids are reused). */
  startTime: number;
}

/** `/proc/<pid>/stat`, or null when the process is gone or /proc cannot be read. */
export function procStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces and ")": parse after the last.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), startTime: Number(f[19]) };
}

/** Zombie, or being torn down. */
const exited = (state: string) => state === "Z" || state === "X" || state === "x";

/** True while a process with this pid exists and has not exited. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false; // kill(0 or -n, 0) would test a group
  const st = procStat(pid);
  if (st) return !exited(st.state);
  if (procMounted() && !existsSync(`/proc/${pid}`)) return false;
  return signalZero(pid);
}

/** The start time of a live pid (to tell it from a later process that reuses the pid). */
export function startTimeOf(pid: number): number | null {
  return procStat(pid)?.startTime ?? null;
}

/** Every live (not exited) process, with its stat; empty where there is no /proc. */
export function liveProcesses(): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  if (!procMounted()) return out;
  let names: string[] = [];
  try {
    names = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name)); // null: it ended while we read
    if (st && !exited(st.state)) out.set(Number(name), st);
  }
  return out;
}

/** The live processes of process group `pgid` (a replica leads its own group). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const [pid, st] of liveProcesses()) if (st.pgrp === pgid) out.push(pid);
  return out;
}

/** True while any live process belongs to group `pgid`; signal 0 to the group without /proc. */
export function groupRunning(pgid: number): boolean {
  if (!procMounted()) return pgid > 0 && signalZero(-pgid);
  return groupMembers(pgid).length > 0;
}

let mounted: boolean | undefined;
function procMounted(): boolean {
  mounted ??= existsSync("/proc/self/stat");
  return mounted;
}

function signalZero(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // exists, not ours to signal
  }
}
