import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { groupMembers, liveProcesses } from "@switchyard/runtime";

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

/**
 * Process facts for tests (nothing left behind): the runtime's, which the provisioner and
 * `pnpm start` use too. A zombie counts as gone.
 */
export { processAlive as alive } from "@switchyard/runtime";

export { groupMembers };

/** True while any process of group `pgid` is live. */
export function groupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

/** Process groups of every live process whose working directory is under `dir`. */
export function groupsUnder(dir: string): Set<number> {
  const groups = new Set<number>();
  for (const [pid, p] of liveProcesses()) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(dir)) groups.add(p.pgrp);
    } catch {
      // The process ended while we looked, or is not ours to inspect.
    }
  }
  return groups;
}
