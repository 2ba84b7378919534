import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ExitInfo } from "./exit-reason.js";

/**
 * The files of a replica's dir that the local backend reads back: state.json (written at
 * launch), exit.status (written by the runner), the log's tail.
 */
/** What `<dir>/state.json` holds: enough to re-find and verify the process after a restart. */
export interface StateFile {
  service: string;
  id: number;
  revision: number;
  pid: number;
  pgid: number;
  port: number;
  start_time: number | null;
  launched_at: string;
}

export function writeState(dir: string, st: StateFile): void {
  writeFileSync(join(dir, "state.json"), `${JSON.stringify(st)}\n`, { mode: 0o600 });
}

export function readState(dir: string): StateFile | null {
  try {
    return JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as StateFile;
  } catch {
    return null;
  }
}

export function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function tail(file: string, bytes: number): string {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, "r");
    const buf = Buffer.alloc(Math.min(bytes, size));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    closeSync(fd);
    return buf.toString("utf8");
  } catch {
    return "";
  }
}

/** `exit.status` is "setup N" or "run N"; missing when the runner itself was killed. */
export function readExitStatus(dir: string): Pick<ExitInfo, "stage" | "code"> {
  try {
    const m = /^(setup|run) (\d+)/.exec(readFileSync(join(dir, "exit.status"), "utf8"));
    if (m) return { stage: m[1] as "setup" | "run", code: Number(m[2]) };
  } catch {}
  return { stage: "unknown", code: null };
}
