import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The repository root (testkit lives in libs/testkit/src). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface Proc {
  child: ChildProcess;
  /** Every line the process wrote to stdout and stderr, in order. */
  lines: string[];
  /** Resolves with the first line (already seen or future) that matches. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after graceMs; resolves when it exited. */
  stop(graceMs?: number): Promise<number | string>;
}

/**
 * Start a real process (a service's `tsx src/main.ts`, the CLI, an engine) with captured
 * output. Each process leads its own process group so that `stop` reaches its children.
 */
export function startProc(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Proc {
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const onData = (prefix: string) => {
    let buf = "";
    return (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split("\n");
      buf = parts.pop()!;
      for (const p of parts) {
        const line = prefix + p;
        lines.push(line);
        for (const w of [...waiters]) {
          if (w.re.test(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    };
  };
  child.stdout!.on("data", onData(""));
  child.stderr!.on("data", onData(""));
  const exited = once(child, "exit").then(([code, sig]) => (code ?? sig) as number | string);
  const proc: Proc = {
    child,
    lines,
    waitForLine(re, timeoutMs = 30_000) {
      const hit = lines.find((l) => re.test(l));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { re, resolve };
        waiters.push(w);
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(
            new Error(
              `no line matching ${re} within ${timeoutMs} ms; last lines:\n${lines.slice(-15).join("\n")}`,
            ),
          );
        }, timeoutMs);
        exited.then(() => {
          if (waiters.includes(w)) {
            clearTimeout(t);
            waiters.splice(waiters.indexOf(w), 1);
            reject(
              new Error(
                `process exited before a line matching ${re}; last lines:\n${lines.slice(-15).join("\n")}`,
              ),
            );
          }
        });
        const orig = w.resolve;
        w.resolve = (l) => {
          clearTimeout(t);
          orig(l);
        };
      });
    },
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      signalGroup(child, "SIGTERM");
      const t = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  return proc;
}

function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, sig);
  } catch {
    child.kill(sig);
  }
}

/** Run tsx on a TypeScript entry file relative to the repo root. */
export function startTs(entry: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Proc {
  return startProc(process.execPath, ["--import", "tsx", entry, ...args], { env });
}

/** Run a command to completion; returns code and output. */
export async function run(
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | string; stdout: string; stderr: string; lines: string[] }> {
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const [code, sig] = await once(child, "exit");
  return { code: code ?? sig, stdout, stderr, lines: (stdout + stderr).split("\n") };
}

/** State letter and process group of a pid, from `/proc/<pid>/stat`; null when it cannot be read. */
function procStat(pid: number): { state: string; pgrp: number } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and ")", so fields follow the last ")".
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state: f[0], pgrp: Number(f[2]) };
}

/** An exited process nobody has reaped yet (a zombie) or one being torn down. */
const exited = (state: string) => state === "Z" || state === "X" || state === "x";

/**
 * True while a process with this pid exists and has not exited. An exited process nobody has
 * reaped yet (a zombie: the sandbox's PID 1 does not reap orphans) counts as gone, although
 * `process.kill(pid, 0)` still succeeds on it. Reads the state from `/proc/<pid>/stat` (Linux);
 * where there is no /proc, or it cannot be read, falls back to signal 0.
 */
export function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false; // kill(0 or -n, 0) would test a group
  const st = procStat(pid);
  if (st) return !exited(st.state);
  if (procMounted() && !existsSync(`/proc/${pid}`)) return false;
  return signalZero(pid);
}

/**
 * The live (not exited) processes of process group `pgid`. A replica leads its own group, so
 * these are its processes. Linux only: empty where there is no /proc.
 */
export function groupMembers(pgid: number): number[] {
  return liveProcs()
    .filter((p) => p.pgrp === pgid)
    .map((p) => p.pid);
}

/** True while any process of group `pgid` is live. */
export function groupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

/** Process groups of every live process whose working directory is under `dir`. */
export function groupsUnder(dir: string): Set<number> {
  const groups = new Set<number>();
  for (const p of liveProcs()) {
    try {
      if (readlinkSync(`/proc/${p.pid}/cwd`).startsWith(dir)) groups.add(p.pgrp);
    } catch {
      // The process ended while we looked, or is not ours to inspect.
    }
  }
  return groups;
}

function liveProcs(): { pid: number; pgrp: number }[] {
  if (!procMounted()) return [];
  const out: { pid: number; pgrp: number }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (st && !exited(st.state)) out.push({ pid: Number(name), pgrp: st.pgrp });
  }
  return out;
}

let procIsMounted: boolean | undefined;
function procMounted(): boolean {
  procIsMounted ??= existsSync("/proc/self/stat");
  return procIsMounted;
}

function signalZero(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === "EPERM"; // it exists, it is just not ours to signal
  }
}

function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && "code" in err && typeof err.code === "string" ? err.code : undefined;
}
