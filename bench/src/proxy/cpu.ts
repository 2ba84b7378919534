import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * CPU seconds of one process, all its threads: the scheduler's runtime in nanoseconds
 * (/proc/<pid>/task/<tid>/schedstat), else utime + stime in 10 ms ticks (/proc/<pid>/stat).
 */
function ownSeconds(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`))
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    if (ns > 0) return ns / 1e9;
  } catch {
    // no schedstat (a kernel without it): the tick counts below
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** A process's live children (/proc/<pid>/task/<pid>/children). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds used so far by a process and its live descendants (nginx master + workers). */
export function cpuSeconds(pid: number): number {
  let t = ownSeconds(pid);
  for (const c of childrenOf(pid)) t += cpuSeconds(c);
  return t;
}
