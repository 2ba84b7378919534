import type { Logger } from "@switchyard/bus";
import {
  type EventOf,
  FAILED_PHASES,
  type ReplicaPhase,
  type ReplicaRecord,
  replicaKey,
  type SpecRecord,
  type YardEvent,
} from "@switchyard/contracts";
import type { Backend, BackendEvent, FoundReplica } from "./backend.js";
import { type Backoff, recordFailure } from "./backoff.js";
import { classifyExit, type Failure } from "./exit-reason.js";
import type { Gpu } from "./inventory.js";
import { launchKey } from "./launch-key.js";
import { choosePort } from "./port-choice.js";
import { type Action, RUNNING, reconcile } from "./reconcile.js";
import { planRecovery } from "./recovery.js";
import type { ReplicaStore } from "./replica-store.js";

export interface ProvisionerDeps {
  backend: Backend;
  store: ReplicaStore;
  publish: (ev: YardEvent) => void;
  logger: Logger;
  inventory: Gpu[];
  hostAddress: string;
  now?: () => number;
}

/** An event without its envelope fields (distributes over the union). */
type EventBody = YardEvent extends infer E ? (E extends YardEvent ? Omit<E, "schema" | "at"> : never) : never;

const PROBED: readonly ReplicaPhase[] = ["STARTING", "READY", "NOT_READY"];

/**
 * The provisioner's state and the effects of the reconciler's actions. Inputs (spec, endpoint,
 * scale changes, process events, prober verdicts) update the state and schedule a reconcile
 * pass; a pass is synchronous, and slow effects (spawning, stopping) run in the background and
 * schedule another pass when done.
 */
export class Provisioner {
  readonly specs = new Map<string, SpecRecord>();
  readonly scale = new Map<string, number>();
  readonly endpoints = new Set<string>();
  private readonly backoff = new Map<string, Backoff>();
  private readonly nextId = new Map<string, number>();
  private readonly launchKeys = new Map<string, Map<number, string>>();
  private readonly inflight = new Set<Promise<unknown>>();
  private wake: { at: number; timer: NodeJS.Timeout } | null = null;
  private scheduled = false;
  private stopped = false;
  /** No reconcile before recovery: launching first would duplicate replicas that still run. */
  private paused = true;
  private readonly now: () => number;

  constructor(private readonly d: ProvisionerDeps) {
    this.now = d.now ?? Date.now;
    d.backend.onEvent((e) => this.onBackend(e));
  }

  setSpec(rec: SpecRecord): void {
    this.specs.set(rec.name, rec);
    const keys = this.launchKeys.get(rec.name) ?? new Map<number, string>();
    keys.set(rec.revision, launchKey(rec.spec));
    this.launchKeys.set(rec.name, keys);
    this.kick();
  }

  deleteSpec(name: string): void {
    this.specs.delete(name);
    this.launchKeys.delete(name);
    this.kick();
  }

  setEndpoint(key: string, present: boolean): void {
    if (present) this.endpoints.add(key);
    else this.endpoints.delete(key);
    this.kick();
  }

  setScale(name: string, target: number | null): void {
    if (target === null) this.scale.delete(name);
    else this.scale.set(name, target);
    this.kick();
  }

  /** A prober verdict (durable consumer): record it, stop the replica; it is then replaced. */
  onFailed(ev: EventOf<"replica.failed">): void {
    const key = replicaKey(ev.service, ev.replica_id);
    const r = this.d.store.get(key);
    const stale =
      !r || !PROBED.includes(r.phase) || r.revision !== ev.revision || ev.at < (r.launched_at ?? "");
    if (stale) {
      this.d.logger.info({ key, phase: r?.phase ?? null }, "ignoring a stale replica.failed");
      return;
    }
    const phase = FAILED_PHASES.includes(ev.phase) ? ev.phase : "FAILED";
    this.fail(key, { phase, reason: ev.reason, message: ev.message });
  }

  /** After loading records: adopt what runs, fail what died, stop what nobody tracks. */
  recover(found: FoundReplica[]): void {
    for (const r of this.d.store.all()) this.bumpNextId(r.service, r.id);
    for (const f of found) this.bumpNextId(f.service, f.id);
    for (const step of planRecovery(this.d.store.all(), found)) {
      this.d.logger.info(
        { step: step.type, key: "key" in step ? step.key : `${step.service}.${step.id}` },
        "recovery",
      );
      if (step.type === "adopt") {
        const r = this.d.store.get(step.key)!;
        this.d.backend.adopt(step.found);
        if (r.pid !== step.found.pid) this.d.store.put({ ...r, pid: step.found.pid });
        if (r.phase === "PROVISIONING" && step.found.runStarted) this.started(step.key);
      } else if (step.type === "fail")
        this.fail(step.key, { phase: "FAILED", reason: step.reason, message: step.message });
      else if (step.type === "terminate")
        this.terminate(step.key, this.d.store.get(step.key)?.reason ?? null, false);
      else this.background(this.d.backend.terminate(step.service, step.id, step.pid));
    }
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  kick(): void {
    if (this.scheduled || this.stopped || this.paused) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) this.pass();
    });
  }

  /** Stop reconciling; unless `keep`, stop every replica and delete its record (failures stay). */
  async shutdown(keep: boolean): Promise<void> {
    this.stopped = true;
    if (this.wake) clearTimeout(this.wake.timer);
    await Promise.allSettled([...this.inflight]);
    if (!keep)
      await Promise.allSettled(
        this.d.store
          .all()
          .filter((r) => RUNNING.includes(r.phase) || r.phase === "SHUTTING_DOWN")
          .map((r) => this.terminate(replicaKey(r.service, r.id), null, true)),
      );
    await this.d.store.flush();
  }

  private pass(): void {
    const actions = reconcile({
      now: this.now(),
      specs: this.specs,
      scale: this.scale,
      replicas: this.d.store.all(),
      endpoints: this.endpoints,
      inventory: this.d.inventory,
      backoff: this.backoff,
      nextId: this.nextId,
      sameLaunch: (svc, rev) => {
        const keys = this.launchKeys.get(svc);
        const cur = this.specs.get(svc)?.revision;
        return !!keys && cur !== undefined && keys.has(rev) && keys.get(rev) === keys.get(cur);
      },
    });
    for (const a of actions) this.apply(a);
  }

  private apply(a: Action): void {
    const { store } = this.d;
    switch (a.type) {
      case "launch":
        this.launch(a);
        break;
      case "pend": {
        this.bumpNextId(a.service, a.id);
        const base = store.get(replicaKey(a.service, a.id)) ?? this.blank(a.service, a.id, a.revision);
        this.change({ ...base, phase: "PENDING", reason: a.reason, message: a.message });
        break;
      }
      case "terminate":
        void this.terminate(a.key, a.reason, true);
        break;
      case "drop":
        store.remove(a.key);
        break;
      case "set_phase": {
        const r = store.get(a.key)!;
        if (a.phase === "READY") this.backoff.delete(r.service);
        const first_ready_at = r.first_ready_at ?? (a.phase === "READY" ? this.iso() : null);
        this.change({ ...r, phase: a.phase, first_ready_at, reason: null, message: null });
        break;
      }
      case "retag":
        store.put({ ...store.get(a.key)!, revision: a.revision });
        break;
      case "wake":
        this.wakeAt(a.at);
    }
  }

  private wakeAt(at: number): void {
    if (this.wake && this.wake.at <= at) return;
    if (this.wake) clearTimeout(this.wake.timer);
    const timer = setTimeout(() => {
      this.wake = null;
      this.kick();
    }, at - this.now());
    this.wake = { at, timer };
  }

  private launch(a: Extract<Action, { type: "launch" }>): void {
    const key = replicaKey(a.service, a.id);
    this.bumpNextId(a.service, a.id);
    const spec = this.specs.get(a.service)!.spec;
    const launched_at = this.iso();
    this.change({
      ...(this.d.store.get(key) ?? this.blank(a.service, a.id, a.revision)),
      phase: "PROVISIONING",
      accelerator: a.accelerator?.name ?? null,
      accelerator_count: a.accelerator?.count ?? null,
      gpu_indices: a.accelerator?.indices ?? [],
      launched_at,
      reason: null,
      message: null,
    });
    const ours = () => {
      const r = this.d.store.get(key);
      return r && RUNNING.includes(r.phase) && r.launched_at === launched_at ? r : null;
    };
    this.background(
      (async () => {
        const port = await choosePort(this.d.backend, this.d.store, key, spec);
        if (!ours() || this.stopped) return;
        if (!port.ok) return this.fail(key, { phase: "FAILED", reason: "PortInUse", message: port.message });
        this.d.store.put({ ...ours()!, port: port.port });
        let pid: number;
        try {
          ({ pid } = await this.d.backend.launch({
            ...a,
            spec,
            port: port.port,
            gpuIndices: a.accelerator?.indices ?? [],
          }));
        } catch (err) {
          const message = `could not start the replica: ${(err as Error).message}`;
          return this.fail(key, { phase: "FAILED", reason: "LaunchFailed", message });
        }
        const r = ours();
        if (!r || this.stopped) return void (await this.d.backend.terminate(a.service, a.id, pid));
        this.d.store.put({ ...r, pid });
        this.event({ type: "replica.launched", ...this.ids(r), url: this.url(port.port) });
      })(),
    );
  }

  private onBackend(e: BackendEvent): void {
    const key = replicaKey(e.service, e.id);
    if (e.type === "run_started") this.started(key);
    else if (RUNNING.includes(this.d.store.get(key)?.phase ?? "UNKNOWN"))
      this.fail(key, classifyExit(e.exit));
  }

  private started(key: string): void {
    const r = this.d.store.get(key);
    if (r?.phase !== "PROVISIONING" || r.port === null) return;
    this.change({ ...r, phase: "STARTING", url: this.url(r.port) });
  }

  private fail(
    key: string,
    f: { phase: ReplicaRecord["phase"]; reason: Failure["reason"]; message: string },
  ): void {
    const r = this.d.store.get(key);
    if (!r || !RUNNING.includes(r.phase)) return;
    this.backoff.set(r.service, recordFailure(this.backoff.get(r.service), this.now()));
    this.change({ ...r, phase: f.phase, reason: f.reason, message: f.message });
    this.background(
      this.d.backend.terminate(r.service, r.id, r.pid).then(() => {
        this.event({ type: "replica.terminated", ...this.ids(r), reason: f.reason });
        this.kick();
      }),
    );
    this.kick();
  }

  private terminate(key: string, reason: Failure["reason"] | null, markFirst: boolean): Promise<void> {
    const r = this.d.store.get(key);
    if (!r) return Promise.resolve();
    const message = reason
      ? stopMessage(reason, this.specs.get(r.service)?.revision)
      : "provisioner stopping";
    if (markFirst && r.phase !== "SHUTTING_DOWN")
      this.change({ ...r, phase: "SHUTTING_DOWN", reason, message });
    const p = this.d.backend.terminate(r.service, r.id, r.pid).then(() => {
      this.d.store.remove(key);
      this.event({ type: "replica.terminated", ...this.ids(r), reason });
      this.kick();
    });
    this.background(p);
    return p;
  }

  /** Write a record and announce its phase change. */
  private change(r: ReplicaRecord): void {
    const before = this.d.store.get(replicaKey(r.service, r.id));
    this.d.store.put(r);
    if (before?.phase === r.phase && before.message === r.message) return;
    const { phase, reason, message } = r;
    this.d.logger.info({ service: r.service, replica: r.id, phase, reason, message }, "replica phase");
    this.event({ type: "replica.phase_changed", ...this.ids(r), phase, reason, message });
  }

  private background(p: Promise<unknown>): void {
    const q = p.catch((err) => this.d.logger.error({ err: String(err) }, "replica operation failed"));
    this.inflight.add(q);
    void q.finally(() => this.inflight.delete(q));
  }

  private event(e: EventBody): void {
    this.d.publish({ schema: 1, at: this.iso(), ...e } as YardEvent);
  }

  private ids(r: ReplicaRecord) {
    return { service: r.service, replica_id: r.id, revision: r.revision };
  }

  private url(port: number): string {
    return `http://${this.d.hostAddress}:${port}`;
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  private bumpNextId(svc: string, id: number): void {
    this.nextId.set(svc, Math.max(this.nextId.get(svc) ?? 1, id + 1));
  }

  private blank(service: string, id: number, revision: number): ReplicaRecord {
    return {
      schema: 1,
      service,
      id,
      revision,
      phase: "PENDING",
      backend: this.d.backend.name,
      url: null,
      port: null,
      accelerator: null,
      accelerator_count: null,
      gpu_indices: [],
      pid: null,
      host: this.d.hostAddress,
      reason: null,
      message: null,
      launched_at: null,
      updated_at: this.iso(),
      first_ready_at: null,
    };
  }
}

function stopMessage(reason: Failure["reason"], revision: number | undefined): string {
  if (reason === "SpecChanged") return `replaced by revision ${revision}`;
  if (reason === "SpecDeleted") return "service deleted";
  if (reason === "ScaledDown") return "scaled down";
  return reason;
}
