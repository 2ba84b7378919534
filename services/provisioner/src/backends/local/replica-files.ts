import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { ExitInfo } from "../../exit-reason.js";
import { readMaskedChunk } from "../../log-chunk.js";

/**
 * The files the local backend keeps: in a replica's dir, state.json (written at launch),
 * exit.status (written by the runner), secrets.json, stop.requested, the log; and one record
 * per live process group under `<state dir>/replica-groups/`.
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

/**
 * `<state dir>/replica-groups/<pgid>`: one file per replica process group that may be alive,
 * holding its leader's start time. `pnpm start` reads them without the provisioner
 * (tools/up/src/replica-groups.ts) and stops the groups a dead provisioner left behind; it
 * renames the record of a group it stopped to `<pgid>.stopped`, so that the next provisioner
 * can tell why that replica is gone.
 */
export const REPLICA_GROUPS_DIR = "replica-groups";

const groupFile = (stateDir: string, pgid: number, suffix = "") =>
  join(stateDir, REPLICA_GROUPS_DIR, `${pgid}${suffix}`);

export function recordGroup(stateDir: string, pgid: number, startTime: number | null): void {
  // 0700: the records name this user's processes; nobody else needs to list them.
  mkdirSync(join(stateDir, REPLICA_GROUPS_DIR), { recursive: true, mode: 0o700 });
  writeFileSync(groupFile(stateDir, pgid), `${startTime ?? ""}\n`, { mode: 0o600 });
}

/** Is the record `suffix` of group `pgid` the one of the group whose leader started at `startTime`? */
function isRecordOf(stateDir: string, pgid: number, startTime: number | null, suffix = ""): boolean {
  try {
    return readFileSync(groupFile(stateDir, pgid, suffix), "utf8").trim() === String(startTime ?? "");
  } catch {
    return false;
  }
}

/**
 * The group is gone: drop its record and the launcher's note that it stopped it (unless they
 * are another group's that got the same id since).
 */
export function forgetGroup(stateDir: string, pgid: number, startTime: number | null): void {
  for (const suffix of ["", ".stopped"])
    if (isRecordOf(stateDir, pgid, startTime, suffix))
      rmSync(groupFile(stateDir, pgid, suffix), { force: true });
}

/** Did `pnpm start` stop this group (the one whose leader started at `startTime`)? */
export function stoppedByLauncher(stateDir: string, pgid: number, startTime: number | null): boolean {
  return isRecordOf(stateDir, pgid, startTime, ".stopped");
}

/** Records of groups `isAlive` says are gone, and every `.stopped` note: removed. */
export function sweepGroups(stateDir: string, isAlive: (pgid: number) => boolean): void {
  for (const name of safeReaddir(join(stateDir, REPLICA_GROUPS_DIR))) {
    const m = /^(\d+)(\.stopped)?$/.exec(name);
    if (!m || m[2] || !isAlive(Number(m[1])))
      rmSync(join(stateDir, REPLICA_GROUPS_DIR, name), { force: true });
  }
}

/**
 * `<dir>/stop.requested`: written before a live replica is stopped on purpose, so that a
 * provisioner that finds it gone after a restart knows it was stopped, not crashed, even when
 * the record saying so never reached the bus (NATS away, or the provisioner died first).
 */
const STOP_MARKER = "stop.requested";

export function markStopRequested(dir: string, by: string): void {
  try {
    writeFileSync(join(dir, STOP_MARKER), `${by}\n`, { mode: 0o600 });
  } catch {
    // no dir (a launch that never started): nothing to remember
  }
}

export function stopRequested(dir: string): boolean {
  return existsSync(join(dir, STOP_MARKER));
}

const SECRETS_FILE = "secrets.json";

export function writeSecrets(dir: string, values: string[]): void {
  writeFileSync(join(dir, SECRETS_FILE), JSON.stringify(values), { mode: 0o600 });
}

/** The secret values a replica was launched with; [] when none or already scrubbed. */
export function readSecrets(dir: string): string[] {
  try {
    const v: unknown = JSON.parse(readFileSync(join(dir, SECRETS_FILE), "utf8"));
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x.length > 0) : [];
  } catch {
    return [];
  }
}

/**
 * Once a replica's processes are gone, its secret values leave the disk: the log is rewritten
 * with them masked (as `yard logs` shows it), then secrets.json is removed. Idempotent. Only for
 * a replica with no process left: a live one would keep writing to the replaced file.
 */
export function scrubSecrets(dir: string): void {
  if (!existsSync(join(dir, SECRETS_FILE))) return;
  const secrets = readSecrets(dir);
  const log = join(dir, "replica.log");
  if (secrets.length > 0 && existsSync(log)) {
    const masked = `${log}.masked`;
    const fd = openSync(masked, "w", 0o600);
    try {
      for (let offset = 0; ; ) {
        const c = readMaskedChunk(log, { offset, max_bytes: 1 << 20 }, secrets, false);
        if (c.next_offset <= offset) break;
        writeSync(fd, c.data);
        offset = c.next_offset;
      }
    } finally {
      closeSync(fd);
    }
    renameSync(masked, log);
  }
  rmSync(join(dir, SECRETS_FILE), { force: true });
}
