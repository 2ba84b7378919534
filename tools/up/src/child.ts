import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { processAlive as alive, liveProcesses, procStat } from "@switchyard/runtime";
import { lineSplitter } from "./prefix.js";

/**
 * A child process in its own process group (so a stop reaches everything it started in that
 * group), with its stdout and stderr delivered line by line.
 */
export interface Child {
  pid: number;
  process: ChildProcess;
  exited: Promise<number | string>;
  running(): boolean;
}

export function spawnChild(
  cmd: string,
  args: string[],
  /** `env` is the whole environment of the child (nothing inherited implicitly). */
  opts: { env: NodeJS.ProcessEnv; cwd?: string },
  onLine: (line: string) => void,
): Child {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  for (const stream of [child.stdout, child.stderr]) {
    const split = lineSplitter();
    stream?.setEncoding("utf8");
    stream?.on("data", (d: string) => {
      for (const l of split(d)) onLine(l);
    });
  }
  const exited = once(child, "exit").then(([code, sig]) => (code ?? sig) as number | string);
  // A failed spawn (ENOENT) emits "error" and then "exit"; keep it from throwing.
  child.on("error", () => {});
  return {
    pid: child.pid ?? -1,
    process: child,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
  };
}

export function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

export { processAlive as alive } from "@switchyard/runtime";

/**
 * Every live descendant of `root` (Linux /proc): the processes a service started, including
 * those it put in their own process groups (replicas), which a group signal would miss.
 */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, s] of liveProcesses()) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  const out: number[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * Stop a child and everything it started: `sig` (SIGTERM) to its group, SIGKILL after `graceMs`;
 * then the descendants that outlived it (own groups, orphaned) get the same treatment.
 */
export async function stopTree(
  c: Child,
  graceMs: number,
  sig: NodeJS.Signals = "SIGTERM",
): Promise<number | string> {
  const before = descendants(c.pid);
  let code: number | string = "not running";
  if (c.running()) {
    signalGroup(c.pid, sig);
    const timer = setTimeout(() => signalGroup(c.pid, "SIGKILL"), graceMs);
    code = await c.exited;
    clearTimeout(timer);
  }
  const left = before.filter(alive);
  if (left.length) {
    for (const p of left) signalGroup(p, "SIGTERM");
    await until(() => !left.some(alive), graceMs);
    for (const p of left.filter(alive)) signalGroup(p, "SIGKILL");
  }
  return code;
}

/**
 * Resolves once `cond` holds (true) or after `ms` (false). For orphans and process groups: they
 * are not our children, so there is no exit event to await; it looks again every 50 ms.
 */
export async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * Calls `onGone` once the leader of this process's group exits, when that leader is not this
 * process. Under `pnpm start` the leader is pnpm, which exits on SIGTERM without passing it on
 * (Ctrl-C reaches the whole group, a `kill` of pnpm does not). Linux /proc; looks once a second,
 * since a process that is not our child gives no exit event.
 */
export function onGroupLeaderGone(onGone: () => void): void {
  const pgrp = procStat(process.pid)?.pgrp;
  if (!pgrp || pgrp === process.pid) return;
  const timer = setInterval(() => {
    if (!alive(pgrp)) {
      clearInterval(timer);
      onGone();
    }
  }, 1_000);
  timer.unref();
}
