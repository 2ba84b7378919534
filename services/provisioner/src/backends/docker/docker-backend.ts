import { createHash } from "node:crypto";
import {
  createWriteStream,
  existsSync,
  type FSWatcher,
  mkdirSync,
  rmSync,
  watch,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { Logger } from "@switchyard/bus";
import { secretValues, YardError } from "@switchyard/contracts";
import Docker from "dockerode";
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
import {
  markStopRequested,
  readExitStatus,
  readSecrets,
  scrubSecrets,
  stopRequested,
  tail,
  writeSecrets,
} from "../local/replica-files.js";
import type { PortDecision } from "../ports.js";
import { buildReplicaEnv, RUNNER_SCRIPT } from "../replica-env.js";
import {
  BOX_IN_CONTAINER,
  chooseImage,
  containerCreateOptions,
  containerName,
  ENTRY_SCRIPT,
  envFileText,
  LABEL,
  replicaOfLabels,
} from "./container-spec.js";

export interface DockerBackendOptions {
  stateDir: string;
  gpus: string | undefined;
  hostAddress: string;
  terminateGraceMs: number;
  defaultImage: string | undefined;
  network: string;
  gpuDriver: "nvidia" | "none";
  logger: Logger;
  /** The engine (default: DOCKER_HOST, else /var/run/docker.sock). */
  docker?: Docker;
}

interface Tracked {
  service: string;
  id: number;
  containerId: string;
  port: number | null;
  runStarted: boolean;
  exited: boolean;
  watcher: FSWatcher | null;
  /** Resolves when the engine's log stream of the container has ended (all of it is in the file). */
  logsDone: Promise<void>;
  /** That stream, while it is open (closed with the backend). */
  logStream: Readable | null;
}

/**
 * Replicas as containers on a Docker engine on this host (dockerode, the engine's HTTP API).
 * Per replica, `$YARD_STATE_DIR/docker/<svc>/<id>/` holds `box/` (entry.sh, runner.sh, setup.sh,
 * run.sh and the runner's markers; mounted at /yard), `replica.env` (the resolved envs, 0600,
 * mounted read-only and removed once run starts), secrets.json (to mask the log) and
 * replica.log (the engine's log stream of the container, followed into the file). Containers
 * carry the labels of container-spec.ts; the engine's event stream tells of their ends.
 */
export class DockerBackend implements Backend {
  readonly name = "docker";
  private readonly docker: Docker;
  /** Which provisioner's containers: a hash of its state dir (parallel test systems stay apart). */
  readonly scope: string;
  private readonly tracked = new Map<string, Tracked>();
  private readonly byContainer = new Map<string, Tracked>();
  private readonly listeners: ((e: BackendEvent) => void)[] = [];
  private events: Readable | null = null;
  private closed = false;
  /** readLog and logTail: the replica's log file, read as every backend reads it (file-log.ts). */
  private readonly logs = fileLogs((service, id) => this.logFile(service, id));
  readonly readLog = this.logs.readLog;
  readonly logTail = this.logs.logTail;

  constructor(private readonly o: DockerBackendOptions) {
    this.docker = o.docker ?? new Docker();
    this.scope = createHash("sha256").update(o.stateDir).digest("hex").slice(0, 10);
  }

  private dir(service: string, id: number): string {
    return join(this.o.stateDir, "docker", service, String(id));
  }

  private logFile(service: string, id: number): string {
    return join(this.dir(service, id), "replica.log");
  }

  async inventory(): Promise<Gpu[]> {
    // The engine runs on this host (its bind mounts and host network assume it): its GPUs are ours.
    return detectInventory(this.o.gpus, this.o.logger);
  }

  choosePort(req: PortRequest): Promise<PortDecision> {
    // On its own network address a replica can listen on the spec's port, whatever others do.
    if (this.o.network !== "host") return Promise.resolve({ ok: true, port: req.specPort });
    return chooseHostPort(req);
  }

  async launch(req: LaunchRequest): Promise<Launched> {
    const image = chooseImage(req.spec.resources.other.image_id, this.o.defaultImage);
    if (!image.ok) throw new YardError("SY_ERR_BAD_REQUEST", image.message);
    await this.watchEvents();
    const dir = this.dir(req.service, req.id);
    const box = join(dir, "box");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(box, { recursive: true, mode: 0o700 });
    writeFileSync(join(box, "setup.sh"), req.spec.setup ?? "", { mode: 0o600 });
    writeFileSync(join(box, "run.sh"), req.spec.run ?? "", { mode: 0o600 });
    writeFileSync(join(box, "runner.sh"), RUNNER_SCRIPT, { mode: 0o600 });
    writeFileSync(join(box, "entry.sh"), ENTRY_SCRIPT, { mode: 0o600 });
    writeSecrets(dir, secretValues(req.spec));
    const env = buildReplicaEnv({
      base: {},
      specEnvs: req.spec.envs,
      service: req.service,
      id: req.id,
      port: req.port,
      // In the container the GPUs it was given are its only ones, numbered from 0.
      gpuIndices: req.gpuIndices.map((_, i) => i),
      dir: BOX_IN_CONTAINER,
      extraPath: [],
    });
    if (req.spec.envs.PATH === undefined) delete env.PATH; // the image's PATH stays
    const envFile = join(dir, "replica.env");
    writeFileSync(envFile, envFileText(env), { mode: 0o600 });
    const name = containerName(this.scope, req.service, req.id);
    // A container of that name is a leftover of an earlier launch of this replica id (recovery
    // has stopped what runs): the name must be free for this one.
    await this.removeQuietly(name);
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(
        containerCreateOptions({
          scope: this.scope,
          service: req.service,
          id: req.id,
          revision: req.revision,
          image: image.image,
          boxDir: box,
          envFile,
          network: this.o.network,
          user: `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
          gpuDriver: this.o.gpuDriver,
          gpuIndices: req.gpuIndices,
          spec: req.spec,
        }),
      );
    } catch (err) {
      rmSync(envFile, { force: true });
      throw new YardError("SY_ERR_INTERNAL", engineMessage(err, image.image));
    }
    const t = this.track(req.service, req.id, container.id, req.port);
    try {
      await container.start();
    } catch (err) {
      t.exited = true;
      this.forget(t);
      await this.removeQuietly(container.id);
      this.settleGone(req.service, req.id);
      throw new YardError("SY_ERR_INTERNAL", engineMessage(err, image.image));
    }
    t.logsDone = this.followLogs(t, false);
    let host = this.o.hostAddress;
    if (this.o.network !== "host") {
      const info = await container.inspect();
      host = info.NetworkSettings.Networks[this.o.network]?.IPAddress || host;
    }
    // The run may have started already: now that the handle is known, say so.
    setImmediate(() => this.checkStarted(t));
    return { handle: container.id, host };
  }

  async terminate(service: string, id: number, handle: string | null): Promise<void> {
    const t = this.tracked.get(`${service}.${id}`);
    if (t) t.exited = true; // an exit from here on is ours: no event
    const target = handle ?? t?.containerId ?? containerName(this.scope, service, id);
    markStopRequested(join(this.dir(service, id), "box"), "provisioner");
    const c = this.docker.getContainer(target);
    try {
      // docker stop: SIGTERM (entry.sh passes it to every process), SIGKILL after the grace.
      await c.stop({ t: Math.ceil(this.o.terminateGraceMs / 1000) });
    } catch (err) {
      if (!isGone(err) && !isNotRunning(err)) throw err;
    }
    if (t) await withTimeout(t.logsDone, 5_000);
    await this.removeQuietly(target);
    if (t) this.forget(t);
    this.settleGone(service, id);
  }

  async list(): Promise<FoundReplica[]> {
    await this.watchEvents();
    const all = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL.scope}=${this.scope}`] },
    });
    const out: FoundReplica[] = [];
    for (const c of all) {
      const r = replicaOfLabels(c.Labels, this.scope);
      if (!r) continue;
      const box = join(this.dir(r.service, r.id), "box");
      const found: FoundReplica = {
        service: r.service,
        id: r.id,
        handle: c.Id,
        running: c.State === "running",
        runStarted: existsSync(join(box, "run.started")),
      };
      if (found.running) {
        out.push(found);
        continue;
      }
      // Gone while nobody watched: how it ended, then the container and its secrets go.
      const exit = await this.exitInfo(r.service, r.id, c.Id, null);
      out.push({ ...found, stoppedBy: stopRequested(box) ? "provisioner" : null, exit });
      await this.removeQuietly(c.Id);
      this.settleGone(r.service, r.id);
    }
    return out;
  }

  adopt(f: FoundReplica): void {
    const t = this.track(f.service, f.id, f.handle, null);
    // The whole log again from the engine (it keeps it): the file is rewritten from the start.
    t.logsDone = this.followLogs(t, true);
    this.checkStarted(t);
    // It may have ended between the listing and now, before its `die` could be matched to it.
    this.docker
      .getContainer(f.handle)
      .inspect()
      .then((info) => (info.State.Running ? undefined : this.died(t)))
      .catch((err) => (isGone(err) ? this.died(t) : undefined));
  }

  secretValues(service: string, id: number): string[] {
    return readSecrets(this.dir(service, id));
  }

  running(service: string, id: number): boolean {
    const t = this.tracked.get(`${service}.${id}`);
    return t !== undefined && !t.exited;
  }

  onEvent(listener: (e: BackendEvent) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.closed = true;
    this.events?.destroy();
    for (const t of this.tracked.values()) {
      t.watcher?.close();
      t.logStream?.destroy();
    }
  }

  /**
   * The engine's event stream, filtered to our containers' `die`: each end is seen as it
   * happens (no polling). Opened once; reopened if the engine drops it, with `since` so that
   * nothing in between is missed.
   */
  private async watchEvents(since?: number): Promise<void> {
    if (this.events || this.closed) return;
    const opened = Math.floor(Date.now() / 1000);
    const stream = (await this.docker.getEvents({
      ...(since ? { since } : {}),
      filters: { type: ["container"], event: ["die"], label: [`${LABEL.scope}=${this.scope}`] },
    })) as Readable;
    this.events = stream;
    let buf = "";
    stream.on("data", (chunk: Buffer) => {
      buf += chunk.toString("utf8");
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const ev = JSON.parse(line) as { id?: string; Actor?: { ID?: string } };
          const t = this.byContainer.get(ev.id ?? ev.Actor?.ID ?? "");
          if (t) void this.died(t);
        } catch {
          // not an event: skip it
        }
      }
    });
    const reopen = () => {
      if (this.events !== stream) return;
      this.events = null;
      if (this.closed) return;
      this.o.logger.warn({}, "docker event stream ended: reopening it");
      setTimeout(() => {
        this.watchEvents(opened).catch((err) =>
          this.o.logger.error({ err: String(err) }, "cannot reopen the docker event stream"),
        );
      }, 1_000).unref();
    };
    stream.on("end", reopen);
    stream.on("error", reopen);
  }

  private track(service: string, id: number, containerId: string, port: number | null): Tracked {
    const box = join(this.dir(service, id), "box");
    const t: Tracked = {
      service,
      id,
      containerId,
      port,
      runStarted: false,
      exited: false,
      watcher: null,
      logsDone: Promise.resolve(),
      logStream: null,
    };
    this.tracked.set(`${service}.${id}`, t);
    this.byContainer.set(containerId, t);
    try {
      // inotify on the mounted box: the runner's run.started marker is seen as it is written.
      t.watcher = watch(box, (_ev, file) => {
        if (file === "run.started") this.checkStarted(t);
      });
      t.watcher.on("error", () => {});
    } catch {
      t.watcher = null;
    }
    return t;
  }

  private forget(t: Tracked): void {
    t.watcher?.close();
    if (this.tracked.get(`${t.service}.${t.id}`) === t) this.tracked.delete(`${t.service}.${t.id}`);
    this.byContainer.delete(t.containerId);
  }

  private checkStarted(t: Tracked): void {
    if (t.runStarted || t.exited) return;
    if (!existsSync(join(this.dir(t.service, t.id), "box", "run.started"))) return;
    t.runStarted = true;
    // The entry script read the env file before setup began: its secrets leave the disk now.
    rmSync(join(this.dir(t.service, t.id), "replica.env"), { force: true });
    this.emit({ type: "run_started", service: t.service, id: t.id });
  }

  /** The engine said the container died (not stopped by us): tell how, once its log is all in. */
  private async died(t: Tracked): Promise<void> {
    if (t.exited) return;
    this.checkStarted(t);
    t.exited = true;
    await withTimeout(t.logsDone, 5_000);
    const exit = await this.exitInfo(t.service, t.id, t.containerId, t.port);
    this.forget(t);
    this.emit({ type: "exited", service: t.service, id: t.id, exit });
    await this.removeQuietly(t.containerId);
    this.settleGone(t.service, t.id);
  }

  /** The runner's stage and code (its markers), else the container's exit code; OOMKilled from the engine. */
  private async exitInfo(
    service: string,
    id: number,
    containerId: string,
    port: number | null,
  ): Promise<ExitInfo> {
    const dir = this.dir(service, id);
    const status = readExitStatus(join(dir, "box"));
    let code = status.code;
    let oomKilled = false;
    try {
      const s = (await this.docker.getContainer(containerId).inspect()).State;
      oomKilled = s.OOMKilled === true;
      code ??= typeof s.ExitCode === "number" ? s.ExitCode : null;
    } catch {
      // removed already: the markers are all there is
    }
    return { stage: status.stage, code, oomKilled, logTail: tail(join(dir, "replica.log"), 4096), port };
  }

  /** Copy the engine's log stream of the container into replica.log until the container ends. */
  private async followLogs(t: Tracked, fromStart: boolean): Promise<void> {
    const file = this.logFile(t.service, t.id);
    const out = createWriteStream(file, { flags: fromStart ? "w" : "a", mode: 0o600 });
    try {
      const stream = (await this.docker.getContainer(t.containerId).logs({
        follow: true,
        stdout: true,
        stderr: true,
      })) as unknown as Readable;
      t.logStream = stream;
      await new Promise<void>((resolve) => {
        this.docker.modem.demuxStream(stream, out, out);
        stream.on("end", resolve);
        stream.on("close", resolve);
        stream.on("error", resolve);
      });
    } catch (err) {
      if (!isGone(err))
        this.o.logger.warn({ err: String(err), replica: t.id }, "cannot follow a replica's log");
    } finally {
      t.logStream = null;
      await new Promise<void>((resolve) => out.end(resolve));
    }
  }

  /** No container of the replica is left: its env file and secret values leave the disk. */
  private settleGone(service: string, id: number): void {
    const dir = this.dir(service, id);
    rmSync(join(dir, "replica.env"), { force: true });
    scrubSecrets(dir);
  }

  private async removeQuietly(nameOrId: string): Promise<void> {
    try {
      await this.docker.getContainer(nameOrId).remove({ force: true });
    } catch (err) {
      if (!isGone(err) && !/removal of container .* is already in progress/.test(String(err)))
        this.o.logger.warn({ err: String(err) }, "cannot remove a replica container");
    }
  }

  private emit(e: BackendEvent): void {
    for (const l of this.listeners) l(e);
  }
}

/** YARD_BACKEND=docker. */
export function createDockerBackend(c: BackendConfig, logger: Logger): Backend {
  return new DockerBackend({
    stateDir: c.YARD_STATE_DIR,
    gpus: c.YARD_GPUS,
    hostAddress: c.YARD_HOST_ADDRESS,
    terminateGraceMs: c.YARD_TERMINATE_GRACE_MS,
    defaultImage: c.YARD_DOCKER_IMAGE,
    network: c.YARD_DOCKER_NETWORK,
    gpuDriver: c.YARD_DOCKER_GPU_DRIVER,
    logger,
  });
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number })?.statusCode;
}

const isGone = (err: unknown) => statusOf(err) === 404;
const isNotRunning = (err: unknown) => statusOf(err) === 304;

/** The engine's refusal, in words a user can act on (never the env: it is not in the request). */
function engineMessage(err: unknown, image: string): string {
  const text = String(
    (err as { json?: { message?: string } })?.json?.message ?? (err as Error)?.message ?? err,
  );
  if (statusOf(err) === 404 && /image/i.test(text))
    return `image ${image} is not on the Docker engine (no registry is pulled from: build it first, e.g. pnpm images)`;
  return `the Docker engine refused the container: ${text.slice(0, 300)}`;
}

async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
