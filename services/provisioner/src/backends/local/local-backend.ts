import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  type FSWatcher,
  mkdirSync,
  openSync,
  rmSync,
  watch,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Logger } from "@switchyard/bus";
import { secretValues, YardError } from "@switchyard/contracts";
import { groupRunning, processAlive, startTimeOf } from "@switchyard/runtime";
import type { ExitInfo } from "../../exit-reason.js";
import type { Gpu } from "../../inventory.js";
import type {
  Backend,
  BackendEvent,
  FoundReplica,
  Launched,
  LaunchRequest,
  PortRequest,
} from "../backend.js";
import { fileLogs } from "../file-log.js";
import { detectInventory } from "../gpu-inventory.js";
import { chooseHostPort } from "../host-ports.js";
import type { BackendConfig } from "../index.js";
import type { PortDecision } from "../ports.js";
import { buildReplicaEnv, RUNNER_SCRIPT } from "../replica-env.js";
import {
  forgetGroup,
  markStopRequested,
  readExitStatus,
  readSecrets,
  readState,
  recordGroup,
  type StateFile,
  safeReaddir,
  scrubSecrets,
  stoppedByLauncher,
  stopRequested,
  sweepGroups,
  tail,
  writeSecrets,
  writeState,
} from "./replica-files.js";

interface Tracked {
  service: string;
  id: number;
  pid: number;
  port: number | null;
  adopted: boolean;
  runStarted: boolean;
  exited: boolean;
  watcher: FSWatcher | null;
}

export interface LocalBackendOptions {
  stateDir: string;
  /** YARD_GPUS (declared inventory), else nvidia-smi on this host. */
  gpus: string | undefined;
  /** Host in replica URLs (YARD_HOST_ADDRESS). */
  hostAddress: string;
  terminateGraceMs: number;
  extraPath: string[];
  logger: Logger;
  /** Liveness poll for adopted replicas (not our children) and run-start markers. */
  pollMs?: number;
}

/**
 * Replicas as process groups on this host: `$YARD_STATE_DIR/replicas/<svc>/<id>/` holds
 * setup.sh, run.sh, secrets.json (the spec's secret values, to mask the log), replica.log,
 * state.json, and the runner's markers. Each replica leads its
 * own process group (detached), so it outlives a provisioner crash and is stopped as a whole.
 * Each live group is also recorded in `$YARD_STATE_DIR/replica-groups/`, where `pnpm start`
 * finds it without the provisioner. Once a replica's processes are gone, its group record is
 * removed and its secret values leave the disk (secrets.json deleted, the log masked).
 */
export class LocalBackend implements Backend {
  readonly name = "local";
  private readonly tracked = new Map<string, Tracked>();
  private readonly listeners: ((e: BackendEvent) => void)[] = [];
  private readonly timer: NodeJS.Timeout;
  /** readLog and logTail: the replica's log file, read as every backend reads it (file-log.ts). */
  private readonly logs = fileLogs((service, id) => this.logFile(service, id));
  readonly readLog = this.logs.readLog;
  readonly logTail = this.logs.logTail;

  constructor(private readonly o: LocalBackendOptions) {
    this.timer = setInterval(() => this.poll(), o.pollMs ?? 1_000);
    this.timer.unref();
  }

  dir(service: string, id: number): string {
    return join(this.o.stateDir, "replicas", service, String(id));
  }

  private logFile(service: string, id: number): string {
    return join(this.dir(service, id), "replica.log");
  }

  async inventory(): Promise<Gpu[]> {
    return detectInventory(this.o.gpus, this.o.logger);
  }

  choosePort(req: PortRequest): Promise<PortDecision> {
    return chooseHostPort(req);
  }

  /** The handle is the process group id (its leader's pid), as text. */
  async launch(req: LaunchRequest): Promise<Launched> {
    const dir = this.dir(req.service, req.id);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, "setup.sh"), req.spec.setup ?? "", { mode: 0o600 });
    writeFileSync(join(dir, "run.sh"), req.spec.run ?? "", { mode: 0o600 });
    // For masking the log while the replica lives, whatever spec is current then (or none, after
    // yard down); scrubbed once it is gone.
    writeSecrets(dir, secretValues(req.spec));
    const log = openSync(join(dir, "replica.log"), "a", 0o600);
    const env = buildReplicaEnv({
      base: process.env,
      specEnvs: req.spec.envs,
      service: req.service,
      id: req.id,
      port: req.port,
      gpuIndices: req.gpuIndices,
      dir,
      extraPath: this.o.extraPath,
    });
    const cwd = req.spec.workdir && existsSync(req.spec.workdir) ? req.spec.workdir : dir;
    const child = spawn("bash", ["-c", RUNNER_SCRIPT], {
      cwd,
      env,
      detached: true,
      stdio: ["ignore", log, log],
    });
    closeSync(log);
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("spawn", () => resolve(child.pid!));
      child.once("error", (err) =>
        reject(new YardError("SY_ERR_INTERNAL", `cannot start bash: ${err.message}`)),
      );
    });
    const state: StateFile = {
      service: req.service,
      id: req.id,
      revision: req.revision,
      pid,
      pgid: pid,
      port: req.port,
      start_time: startTimeOf(pid),
      launched_at: new Date().toISOString(),
    };
    writeState(dir, state);
    recordGroup(this.o.stateDir, pid, state.start_time);
    const t = this.track(req.service, req.id, pid, req.port, false);
    child.once("exit", () => this.exited(t));
    return { handle: String(pid), host: this.o.hostAddress };
  }

  async terminate(service: string, id: number, handle: string | null): Promise<void> {
    const t = this.tracked.get(`${service}.${id}`);
    const pgid = pgidOf(handle) ?? t?.pid ?? null;
    if (t) t.exited = true; // an exit from here on is ours: no event
    if (pgid !== null && groupRunning(pgid)) {
      markStopRequested(this.dir(service, id), "provisioner");
      signalGroup(pgid, "SIGTERM");
      if (!(await until(() => !groupRunning(pgid), this.o.terminateGraceMs))) {
        this.o.logger.warn({ service, replica: id, pgid }, "replica ignored SIGTERM: sending SIGKILL");
        signalGroup(pgid, "SIGKILL");
        await until(() => !groupRunning(pgid), 5_000);
      }
    }
    t?.watcher?.close();
    this.tracked.delete(`${service}.${id}`);
    this.settleGone(service, id);
  }

  /**
   * Replicas on the host, from their state files. Of each one whose processes are gone it also
   * tells how it ended (for recovery's reasons), then settles it: group record removed, secrets
   * scrubbed (a provisioner that died, or a launcher that stopped it, could not).
   */
  async list(): Promise<FoundReplica[]> {
    const root = join(this.o.stateDir, "replicas");
    const out: FoundReplica[] = [];
    for (const service of safeReaddir(root))
      for (const idText of safeReaddir(join(root, service))) {
        const dir = join(root, service, idText);
        const st = readState(dir);
        if (!st || st.service !== service || String(st.id) !== idText) continue;
        const sameProcess = st.start_time === null || startTimeOf(st.pid) === st.start_time;
        const running = (processAlive(st.pid) && sameProcess) || groupRunning(st.pgid);
        const found = {
          service,
          id: st.id,
          handle: String(st.pgid),
          running,
          runStarted: existsSync(join(dir, "run.started")),
        };
        if (running) {
          out.push(found);
          continue;
        }
        const by = stopRequested(dir)
          ? "provisioner"
          : stoppedByLauncher(this.o.stateDir, st.pgid, st.start_time)
            ? "pnpm start"
            : null;
        out.push({ ...found, stoppedBy: by, exit: this.exitInfo(service, st.id, st.port) });
        this.settleGone(service, st.id);
      }
    sweepGroups(this.o.stateDir, groupRunning);
    return out;
  }

  adopt(f: FoundReplica): void {
    const st = readState(this.dir(f.service, f.id));
    const pgid = pgidOf(f.handle);
    if (pgid !== null) this.track(f.service, f.id, pgid, st?.port ?? null, true);
  }

  secretValues(service: string, id: number): string[] {
    return readSecrets(this.dir(service, id));
  }

  running(service: string, id: number): boolean {
    const t = this.tracked.get(`${service}.${id}`);
    return t ? groupRunning(t.pid) : false;
  }

  onEvent(listener: (e: BackendEvent) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    clearInterval(this.timer);
    for (const t of this.tracked.values()) t.watcher?.close();
  }

  private track(service: string, id: number, pid: number, port: number | null, adopted: boolean): Tracked {
    const dir = this.dir(service, id);
    const t: Tracked = { service, id, pid, port, adopted, runStarted: false, exited: false, watcher: null };
    this.tracked.set(`${service}.${id}`, t);
    try {
      // inotify: the runner's run.started marker is seen at once; the poll is the fallback.
      t.watcher = watch(dir, (_ev, file) => {
        if (file === "run.started") this.checkStarted(t);
      });
      t.watcher.on("error", () => {});
    } catch {
      t.watcher = null;
    }
    this.checkStarted(t);
    return t;
  }

  private checkStarted(t: Tracked): void {
    if (t.runStarted || t.exited) return;
    if (!existsSync(join(this.dir(t.service, t.id), "run.started"))) return;
    t.runStarted = true;
    this.emit({ type: "run_started", service: t.service, id: t.id });
  }

  private exited(t: Tracked): void {
    if (t.exited) return;
    this.checkStarted(t);
    t.exited = true;
    t.watcher?.close();
    this.emit({ type: "exited", service: t.service, id: t.id, exit: this.exitInfo(t.service, t.id, t.port) });
    this.settleGone(t.service, t.id);
  }

  private exitInfo(service: string, id: number, port: number | null): ExitInfo {
    const dir = this.dir(service, id);
    return { ...readExitStatus(dir), logTail: tail(join(dir, "replica.log"), 4096), port };
  }

  /** No process of the replica is left: forget its group, scrub its secrets. Else nothing yet. */
  private settleGone(service: string, id: number): void {
    const dir = this.dir(service, id);
    const st = readState(dir);
    if (st && groupRunning(st.pgid)) return;
    if (st) forgetGroup(this.o.stateDir, st.pgid, st.start_time);
    scrubSecrets(dir);
  }

  private poll(): void {
    for (const t of this.tracked.values()) {
      this.checkStarted(t);
      // Our own children report their exit; adopted ones are polled.
      if (t.adopted && !t.exited && !processAlive(t.pid)) this.exited(t);
    }
  }

  private emit(e: BackendEvent): void {
    for (const l of this.listeners) l(e);
  }
}

/** YARD_BACKEND=local. */
export function createLocalBackend(c: BackendConfig, logger: Logger): Backend {
  return new LocalBackend({
    stateDir: c.YARD_STATE_DIR,
    gpus: c.YARD_GPUS,
    hostAddress: c.YARD_HOST_ADDRESS,
    terminateGraceMs: c.YARD_TERMINATE_GRACE_MS,
    extraPath: c.YARD_REPLICA_PATH.split(":").filter(Boolean),
    logger,
  });
}

function pgidOf(handle: string | null): number | null {
  const n = Number(handle);
  return handle !== null && Number.isSafeInteger(n) && n > 1 ? n : null;
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {}
}

/** Poll `cond` every 50 ms for up to `ms`; true when it held. (Group death has no event.) */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
