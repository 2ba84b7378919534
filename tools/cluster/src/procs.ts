import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { processAlive, procStat } from "@switchyard/runtime";
import type { StateLayout } from "./layout.js";
import { parsePids, type Started } from "./pids.js";

/** Start a daemon that outlives this command: own session, output to its log in the state dir. */
export function startDaemon(s: StateLayout, name: string, cmd: string, args: string[]): Started {
  mkdirSync(s.logs, { recursive: true });
  const fd = openSync(s.log(name), "a", 0o600);
  const env = {
    PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: process.env.HOME ?? "/root",
  };
  const child = spawn(cmd, args, { detached: true, stdio: ["ignore", fd, fd], env });
  closeSync(fd);
  child.on("error", () => {}); // ENOENT: the pid is undefined and the caller sees it as not running
  child.unref();
  const pid = child.pid ?? -1;
  return { name, pid, startTime: procStat(pid)?.startTime ?? 0 };
}

/** The same process as recorded (not a later one that reuses the pid), and alive. */
export function running(p: Started): boolean {
  return processAlive(p.pid) && procStat(p.pid)?.startTime === p.startTime;
}

export function readPids(s: StateLayout): Started[] {
  if (!existsSync(s.pids)) return [];
  return parsePids(readFileSync(s.pids, "utf8"));
}

export function writePids(s: StateLayout, started: Started[]): void {
  writeFileSync(s.pids, `${JSON.stringify(started, null, 2)}\n`, { mode: 0o600 });
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. These are not our children
 * (an earlier `up` started them), so no exit event reaches us: their state in /proc is polled.
 */
export async function stopProcess(
  p: Started,
  graceMs: number,
): Promise<"stopped" | "killed" | "not running"> {
  if (!running(p)) return "not running";
  process.kill(p.pid, "SIGTERM");
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    if (!running(p)) return "stopped";
    await delay(100);
  }
  try {
    process.kill(p.pid, "SIGKILL");
  } catch {}
  while (running(p)) await delay(50);
  return "killed";
}
