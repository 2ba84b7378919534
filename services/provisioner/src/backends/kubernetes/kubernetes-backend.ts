import { createWriteStream, mkdirSync, rmSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import {
  CoreV1Api,
  KubeConfig,
  Log,
  makeInformer,
  type V1Node,
  type V1Pod,
  type V1Secret,
} from "@kubernetes/client-node";
import type { Logger } from "@switchyard/bus";
import { maskText, secretValues, YardError } from "@switchyard/contracts";
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
import { chooseHostPort } from "../host-ports.js";
import type { BackendConfig } from "../index.js";
import { decidePort, type PortDecision } from "../ports.js";
import { type AcceleratorLabel, parseAcceleratorLabel } from "./accelerator-labels.js";
import { labelValues, nodeInventory } from "./node-inventory.js";
import { parseNodeSelector, parseTolerations } from "./options.js";
import {
  buildPod,
  buildSecret,
  CONTAINER,
  LABELS,
  MANAGED_SELECTOR,
  PORT_ANNOTATION,
  type PodOptions,
  podName,
  secretName,
} from "./pod-spec.js";
import { deletedEnding, neverRan, type PodEnding, podState } from "./pod-status.js";

export interface KubernetesBackendOptions {
  kc: KubeConfig;
  namespace: string;
  pod: PodOptions;
  acceleratorLabel: AcceleratorLabel;
  /** Where the followed pod logs are kept: `<dir>/k8s-logs/<svc>/<id>.log`. */
  stateDir: string;
  logger: Logger;
}

interface Tracked {
  service: string;
  id: number;
  uid: string;
  runStarted: boolean;
  /** Ended (reported or stopped by us): no more events. */
  ended: boolean;
  /** The provisioner is deleting it: its end is no failure. */
  stopping: boolean;
  unschedulable: string | null;
  secrets: string[];
  port: number | null;
  follow: AbortController | null;
  logFile: WriteStream | null;
  /** Resolves once the followed log is all in the file (the container ended) or cannot be read. */
  logDone: Promise<void> | null;
}

const key = (service: string, id: number) => `${service}.${id}`;
/** How long a replica's exit waits for the rest of its log (the log API may lag the Pod's status). */
const LOG_COPY_WAIT_MS = 10_000;

/**
 * Replicas as Pods (pod-spec.ts) in one namespace, watched through informers (a list, then a
 * watch; no polling): every change of a replica Pod's status becomes the provisioner's event
 * (pod-status.ts), the nodes' allocatable GPUs its inventory. The handle is the Pod's uid, so a
 * delete never hits a newer Pod of the same name. Logs are followed through the pod log API into
 * a file here, read (masked) as the local backend reads its own, and kept after the Pod is gone.
 */
export class KubernetesBackend implements Backend {
  readonly name = "kubernetes";
  private readonly core: CoreV1Api;
  private readonly tracked = new Map<string, Tracked>();
  private readonly listeners: ((e: BackendEvent) => void)[] = [];
  /** Pod name → resolves when that Pod (that uid, when known) is gone (terminate waits on it). */
  private readonly gone = new Map<string, { uid: string | null; resolve: () => void }>();
  private readonly pods;
  private readonly nodes;
  private synced: Promise<void> | null = null;
  /** No right to read Nodes (no ClusterRole): no inventory, and no watch retried forever. */
  private nodesForbidden = false;
  private closed = false;
  /** readLog and logTail: the replica's log file, read as every backend reads it (file-log.ts). */
  private readonly logs = fileLogs((service, id) => this.logPath(service, id));
  readonly readLog = this.logs.readLog;
  readonly logTail = this.logs.logTail;

  constructor(private readonly o: KubernetesBackendOptions) {
    this.core = o.kc.makeApiClient(CoreV1Api);
    const ns = o.namespace;
    this.pods = makeInformer<V1Pod>(
      o.kc,
      `/api/v1/namespaces/${ns}/pods`,
      () => this.core.listNamespacedPod({ namespace: ns, labelSelector: MANAGED_SELECTOR }),
      MANAGED_SELECTOR,
    );
    this.nodes = makeInformer<V1Node>(o.kc, "/api/v1/nodes", () => this.core.listNode());
    this.pods.on("add", (p) => this.onPod(p, false));
    this.pods.on("update", (p) => this.onPod(p, false));
    this.pods.on("delete", (p) => this.onPod(p, true));
    // The watch broke (API server restart, expired resource version): list and watch again,
    // after 1 s, doubling to 30 s while it keeps failing; back to 1 s once it connects.
    for (const [what, inf] of [
      ["pods", this.pods],
      ["nodes", this.nodes],
    ] as const) {
      let delay = 1_000;
      inf.on("connect", () => {
        delay = 1_000;
      });
      inf.on("error", (err) => {
        if (this.closed || (what === "nodes" && this.nodesForbidden)) return;
        o.logger.warn(
          { watch: what, err: describe(err, []), retry_ms: delay },
          "kubernetes watch ended: restarting it",
        );
        setTimeout(() => void inf.start().catch(() => {}), delay).unref();
        delay = Math.min(delay * 2, 30_000);
      });
    }
  }

  /** The informers' first lists (once). */
  private sync(): Promise<void> {
    this.synced ??= (async () => {
      await this.pods.start();
      try {
        await this.nodes.start();
      } catch (err) {
        this.nodesForbidden = status(err) === 403;
        this.o.logger.warn(
          { err: describe(err, []) },
          "cannot read the cluster's nodes (the ClusterRole of docs/deploy.md?): no GPU inventory",
        );
      }
    })();
    return this.synced;
  }

  async inventory(): Promise<Gpu[]> {
    await this.sync();
    return nodeInventory(this.nodes.list(), this.o.acceleratorLabel);
  }

  /** With host networking replicas share the node's ports (this host's, on the local cluster); else each Pod has its own. */
  choosePort(req: PortRequest): Promise<PortDecision> {
    if (this.o.pod.hostNetwork) return chooseHostPort(req);
    return Promise.resolve(
      decidePort({ specPort: req.specPort, specPortFree: true, freePort: 0, run: req.run, heldBy: null }),
    );
  }

  async launch(req: LaunchRequest): Promise<Launched> {
    await this.sync();
    const gpus = nodeInventory(this.nodes.list(), this.o.acceleratorLabel);
    const first = gpus.find((g) => g.index === req.gpuIndices[0]);
    const input = {
      service: req.service,
      id: req.id,
      revision: req.revision,
      spec: req.spec,
      port: req.port,
      accelerator: first ? { name: first.name, count: req.gpuIndices.length } : null,
      seenLabelValues: labelValues(this.nodes.list(), this.o.acceleratorLabel),
    };
    const secrets = secretValues(req.spec);
    const ns = this.o.namespace;
    // A leftover of the same name (a crash between the two creates) goes first.
    await this.deleteSecret(req.service, req.id);
    try {
      await this.core.createNamespacedSecret({ namespace: ns, body: buildSecret(input) });
    } catch (err) {
      throw new YardError(
        "SY_ERR_INTERNAL",
        `cannot create Secret ${secretName(req.service, req.id)}: ${describe(err, secrets)}`,
      );
    }
    let pod: V1Pod;
    try {
      pod = await this.core.createNamespacedPod({ namespace: ns, body: buildPod(input, this.o.pod) });
    } catch (err) {
      await this.deleteSecret(req.service, req.id);
      throw new YardError(
        "SY_ERR_INTERNAL",
        `cannot create Pod ${podName(req.service, req.id)}: ${describe(err, secrets)}`,
      );
    }
    const uid = pod.metadata?.uid ?? "";
    this.track(req.service, req.id, uid, false, secrets, req.port);
    // The informer may have seen it already: judge what it knows now.
    const seen = this.pods.get(podName(req.service, req.id), ns);
    if (seen) this.onPod(seen, false);
    return { handle: uid, host: pod.status?.podIP ?? "" };
  }

  async terminate(service: string, id: number, handle: string | null): Promise<void> {
    await this.sync();
    const t = this.tracked.get(key(service, id));
    if (t) t.stopping = true;
    const name = podName(service, id);
    // Its uid, when known: a newer Pod of the same name is never deleted in its place.
    const seen = this.pods.get(name, this.o.namespace);
    const uid = handle || t?.uid || seen?.metadata?.uid || null;
    const gone = new Promise<void>((resolve) => this.gone.set(name, { uid, resolve }));
    try {
      // In the body, not the query: with a body (the uid precondition) the API server reads the
      // options from it alone, and a grace given as a query parameter is ignored.
      const gracePeriodSeconds = neverRan(seen) ? 0 : this.o.pod.terminationGraceSeconds;
      await this.core.deleteNamespacedPod({
        name,
        namespace: this.o.namespace,
        body: { gracePeriodSeconds, ...(uid ? { preconditions: { uid } } : {}) },
      });
      // The watch's delete event: the kubelet has stopped the container (SIGTERM, then SIGKILL
      // after the grace) and the API server has removed the Pod. Bounded, should the watch be
      // down at that moment (the Pod is then gone or going anyway).
      const bound = (this.o.pod.terminationGraceSeconds + 60) * 1000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([gone, new Promise((r) => (timer = setTimeout(r, bound)))]);
      clearTimeout(timer);
    } catch (err) {
      // 404: already gone; 409: the name is another Pod's now (ours is gone).
      if (status(err) !== 404 && status(err) !== 409) throw err;
    } finally {
      this.gone.delete(name);
    }
    await this.deleteSecret(service, id);
    this.untrack(service, id);
  }

  async list(): Promise<FoundReplica[]> {
    await this.sync();
    const out: FoundReplica[] = [];
    const live = new Set<string>();
    for (const pod of this.pods.list()) {
      const ids = idsOf(pod);
      if (!ids) continue;
      const s = podState(pod);
      const running = s.state !== "ended" && !pod.metadata?.deletionTimestamp;
      const found: FoundReplica = {
        service: ids.service,
        id: ids.id,
        handle: pod.metadata?.uid ?? "",
        running,
        runStarted: s.state === "running" && s.runStarted,
      };
      if (running) {
        live.add(key(ids.service, ids.id));
        out.push(found);
        continue;
      }
      // Ended while nobody watched: say how, then clear it away.
      const e = s.state === "ended" ? s.ending : deletedEnding(pod);
      out.push({ ...found, exit: { ...exitOf(e), logTail: "", port: null } });
      void this.terminate(ids.service, ids.id, found.handle).catch(() => {});
    }
    // Secrets whose Pod is gone (a crash between creating the two, or before cleaning up).
    try {
      const secrets = await this.core.listNamespacedSecret({
        namespace: this.o.namespace,
        labelSelector: MANAGED_SELECTOR,
      });
      for (const s of secrets.items) {
        const ids = idsOf(s);
        if (
          ids &&
          !live.has(key(ids.service, ids.id)) &&
          !this.pods.get(podName(ids.service, ids.id), this.o.namespace)
        )
          await this.deleteSecret(ids.service, ids.id);
      }
    } catch (err) {
      this.o.logger.warn({ err: describe(err, []) }, "cannot list replica Secrets to clear leftovers");
    }
    return out;
  }

  adopt(found: FoundReplica): void {
    const pod = this.pods.get(podName(found.service, found.id), this.o.namespace);
    const port = Number(pod?.metadata?.annotations?.[PORT_ANNOTATION]);
    this.track(
      found.service,
      found.id,
      found.handle,
      found.runStarted,
      [],
      Number.isInteger(port) ? port : null,
    );
    if (pod) this.onPod(pod, false);
  }

  secretValues(service: string, id: number): string[] {
    return this.tracked.get(key(service, id))?.secrets ?? [];
  }

  running(service: string, id: number): boolean {
    const t = this.tracked.get(key(service, id));
    return t ? !t.ended : false;
  }

  onEvent(listener: (e: BackendEvent) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.closed = true;
    void this.pods.stop();
    void this.nodes.stop();
    for (const t of this.tracked.values()) this.stopFollowing(t);
  }

  private logPath(service: string, id: number): string {
    return join(this.o.stateDir, "k8s-logs", service, `${id}.log`);
  }

  private track(
    service: string,
    id: number,
    uid: string,
    runStarted: boolean,
    secrets: string[],
    port: number | null,
  ): void {
    const old = this.tracked.get(key(service, id));
    if (old) this.stopFollowing(old);
    this.tracked.set(key(service, id), {
      service,
      id,
      uid,
      runStarted,
      ended: false,
      stopping: false,
      unschedulable: null,
      secrets,
      port,
      follow: null,
      logFile: null,
      logDone: null,
    });
  }

  private untrack(service: string, id: number): void {
    const t = this.tracked.get(key(service, id));
    if (!t) return;
    this.stopFollowing(t);
    this.tracked.delete(key(service, id));
  }

  /** Every status change of a replica Pod the informer sees. */
  private onPod(pod: V1Pod, deleted: boolean): void {
    const uid = pod.metadata?.uid ?? "";
    const waiter = deleted ? this.gone.get(pod.metadata?.name ?? "") : undefined;
    if (waiter && (waiter.uid === null || waiter.uid === uid)) waiter.resolve();
    const ids = idsOf(pod);
    if (!ids) return;
    const t = this.tracked.get(key(ids.service, ids.id));
    if (!t || t.uid !== uid || t.ended) return;
    const s = podState(pod);
    if (s.state !== "pending") this.follow(t);
    if (t.stopping) return;
    if (deleted || pod.metadata?.deletionTimestamp) {
      // Deleted by someone else: out of rotation now, while it still has its grace to finish.
      this.end(t, s.state === "ended" ? s.ending : deletedEnding(pod));
      return;
    }
    if (s.state === "ended") {
      this.end(t, s.ending);
      return;
    }
    if (s.state === "pending") {
      if (s.unschedulable !== t.unschedulable) {
        t.unschedulable = s.unschedulable;
        this.emit({
          type: "waiting",
          service: t.service,
          id: t.id,
          reason: s.unschedulable === null ? null : "Unschedulable",
          message: s.unschedulable,
        });
      }
      return;
    }
    if (s.runStarted && !t.runStarted) {
      t.runStarted = true;
      const host = this.o.pod.hostNetwork ? s.host : (pod.status?.podIP ?? null);
      this.emit({ type: "run_started", service: t.service, id: t.id, ...(host ? { host } : {}) });
    }
  }

  private end(t: Tracked, e: PodEnding): void {
    t.ended = true;
    // The exit carries the log's last lines: the log API may still be sending them (a setup that
    // fails at once ends before its log's request is answered), so wait for the copy to finish.
    const copied = t.logDone ?? Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((r) => {
      timer = setTimeout(r, LOG_COPY_WAIT_MS);
    });
    void Promise.race([copied, bound]).then(() => {
      clearTimeout(timer);
      this.emitExit(t, e);
    });
  }

  private emitExit(t: Tracked, e: PodEnding): void {
    const logTail = this.logTail(t.service, t.id, t.secrets, false).join("\n");
    this.emit({
      type: "exited",
      service: t.service,
      id: t.id,
      exit: { ...exitOf(e), logTail, port: t.port },
      // An exit of its own (code, OOM kill) is judged by classifyExit as every backend's is.
      ...(e.phase === "FAILED" ? {} : { failure: { phase: e.phase, reason: e.reason, message: e.message } }),
    });
  }

  /** Copy the container's log (from its start, then as it is written) into the log file. */
  private follow(t: Tracked): void {
    if (t.logFile || this.closed) return;
    const path = this.logPath(t.service, t.id);
    mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
    rmSync(path, { force: true });
    const out = createWriteStream(path, { flags: "a", mode: 0o600 });
    out.on("error", () => {});
    t.logFile = out;
    // The response is piped into `out`, which finishes when the log ends (the container ended).
    t.logDone = new Promise<void>((resolve) => {
      out.on("finish", resolve);
      out.on("close", resolve);
    });
    new Log(this.o.kc).log(this.o.namespace, podName(t.service, t.id), CONTAINER, out, { follow: true }).then(
      (abort) => {
        if (t.logFile === out) t.follow = abort;
        else abort.abort();
      },
      (err) => {
        this.o.logger.warn(
          { service: t.service, replica: t.id, err: describe(err, t.secrets) },
          "cannot follow the replica's log",
        );
        // Asked again at the Pod's next change (the container may not have been started yet).
        if (t.logFile === out) t.logFile = null;
        out.end();
      },
    );
  }

  private stopFollowing(t: Tracked): void {
    t.follow?.abort();
    t.follow = null;
    t.logFile?.end();
    t.logFile = null;
  }

  private async deleteSecret(service: string, id: number): Promise<void> {
    try {
      await this.core.deleteNamespacedSecret({ name: secretName(service, id), namespace: this.o.namespace });
    } catch (err) {
      if (status(err) !== 404) throw err;
    }
  }

  private emit(e: BackendEvent): void {
    for (const l of this.listeners) l(e);
  }
}

/** The service and replica id a replica object's labels name; null if not one of ours. */
function idsOf(o: V1Pod | V1Secret): { service: string; id: number } | null {
  const l = o.metadata?.labels ?? {};
  const id = Number(l[LABELS.replica]);
  const service = l[LABELS.service];
  return service && Number.isInteger(id) && id > 0 ? { service, id } : null;
}

function exitOf(e: PodEnding): { stage: PodEnding["stage"]; code: number | null; oomKilled: boolean } {
  return { stage: e.stage, code: e.code, oomKilled: e.reason === "OutOfMemory" };
}

function status(err: unknown): number | null {
  const c = (err as { code?: unknown })?.code;
  return typeof c === "number" ? c : null;
}

/** An API error in one line: its HTTP code and the API server's message, secret values masked. */
function describe(err: unknown, secrets: readonly string[]): string {
  const body = (err as { body?: unknown })?.body;
  let message = err instanceof Error ? err.message.split("\n")[0] : String(err);
  try {
    const parsed = typeof body === "string" ? JSON.parse(body) : body;
    if (parsed && typeof parsed.message === "string") message = parsed.message;
  } catch {}
  const code = status(err);
  return maskText(code ? `${code}: ${message}` : message, secrets);
}

/** YARD_BACKEND=kubernetes: the cluster of the usual kubeconfig (or the Pod's service account). */
export function createKubernetesBackend(c: BackendConfig, logger: Logger): Backend {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const label = parseAcceleratorLabel(c.YARD_K8S_ACCELERATOR_LABEL);
  const namespace =
    c.YARD_K8S_NAMESPACE || kc.getContextObject(kc.getCurrentContext())?.namespace || "default";
  return new KubernetesBackend({
    kc,
    namespace,
    acceleratorLabel: label,
    stateDir: c.YARD_STATE_DIR,
    logger,
    pod: {
      defaultImage: c.YARD_K8S_IMAGE,
      imagePullPolicy: c.YARD_K8S_IMAGE_PULL_POLICY,
      hostNetwork: c.YARD_K8S_HOST_NETWORK,
      acceleratorLabel: label,
      spotNodeSelector: parseNodeSelector(c.YARD_K8S_SPOT_NODE_SELECTOR),
      spotTolerations: parseTolerations(c.YARD_K8S_SPOT_TOLERATIONS),
      terminationGraceSeconds: Math.max(1, Math.ceil(c.YARD_TERMINATE_GRACE_MS / 1000)),
    },
  });
}
