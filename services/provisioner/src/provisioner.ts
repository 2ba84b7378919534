import type { Logger } from "@switchyard/bus";
import {
  ACTIVE_PHASES,
  DEFAULT_UPDATE_MODE,
  describeHalt,
  EVENT_SCHEMA_VERSION,
  type EventOf,
  FAILED_PHASES,
  HOLDING_PHASES,
  isUnrecoverable,
  PROBED_PHASES,
  type Reason,
  type ReplicaDownResult,
  RUNNING_PHASES,
  replicaKey,
  SKYSERVE_DRAIN_SECONDS,
  type SpecRecord,
  secretValues,
  YardError,
  type YardEvent,
} from "@switchyard/contracts";
import type { Backend, BackendEvent, FoundReplica } from "./backends/backend.js";
import { type Backoff, recordFailure } from "./backoff.js";
import { DEFAULT_LAUNCH_INTERVAL_MS, DEFAULT_LAUNCHES_PER_INTERVAL, DEFAULT_MAX_REPLICAS } from "./config.js";
import { Drainer } from "./drainer.js";
import { classifyExit } from "./exit-reason.js";
import type { Gpu } from "./inventory.js";
import { launchKey } from "./launch-key.js";
import { type Action, launchBudget, reconcile, servingRevisions } from "./reconcile.js";
import { planRecovery } from "./recovery.js";
import { type FailureNote, ReplicaOps } from "./replica-ops.js";
import type { ReplicaStore } from "./replica-store.js";

/** Without YARD_* limits given (tests): the configuration's defaults. */
const DEFAULT_LIMITS: ProvisionerLimits = {
  maxReplicas: DEFAULT_MAX_REPLICAS,
  launchesPerInterval: DEFAULT_LAUNCHES_PER_INTERVAL,
  launchIntervalMs: DEFAULT_LAUNCH_INTERVAL_MS,
};

export interface ReconcileLoopDeps {
  backend: Backend;
  store: ReplicaStore;
  publish: (ev: YardEvent) => void;
  logger: Logger;
  inventory: Gpu[];
  hostAddress: string;
  now?: () => number;
  /** YARD_MAX_REPLICAS, YARD_LAUNCHES_PER_INTERVAL, YARD_LAUNCH_INTERVAL_MS (default: config's defaults). */
  limits?: ProvisionerLimits;
  /** Hears the proxies' load reports for drains (default: one that hears none: drains end after its warm-up). */
  drainer?: Drainer;
  /** YARD_DRAIN_TIMEOUT_S in ms (default SkyServe's 120 s). */
  drainTimeoutMs?: number;
}

export interface ProvisionerLimits {
  maxReplicas: number;
  launchesPerInterval: number;
  launchIntervalMs: number;
}

/**
 * The provisioner's view of the world and its reconcile loop. Inputs (spec, endpoint and scale
 * changes, process events, prober verdicts) update the view and schedule a pass; a pass is
 * synchronous: it asks the pure reconciler for actions and starts them (ReplicaOps).
 */
export class Provisioner {
  readonly specs = new Map<string, SpecRecord>();
  readonly scale = new Map<string, number>();
  readonly endpoints = new Set<string>();
  private readonly backoff = new Map<string, Backoff>();
  private readonly nextId = new Map<string, number>();
  private readonly launchKeys = new Map<string, Map<number, string>>();
  private readonly ops: ReplicaOps;
  private readonly now: () => number;
  private wake: { at: number; timer: NodeJS.Timeout } | null = null;
  private readonly limits: ProvisionerLimits;
  /** When the launches of the current pacing window started. */
  private launchTimes: number[] = [];
  /** The last hold logged per service (cause), so that a wait is logged once, not per pass. */
  private readonly held = new Map<string, string>();
  /** Halted services (the failure's key), so that a halt is logged once, and its end too. */
  private readonly halted = new Map<string, string>();
  /**
   * Revisions of each service that had a ready replica: SkyServe's latest_version_ever_ready,
   * remembered even after those replicas' records are gone (scaled down). Rebuilt from the
   * records at a restart.
   */
  private readonly readyRevisions = new Map<string, Set<number>>();
  /** The revisions taking traffic per service, as last computed (traffic.switched when they change). */
  private readonly serving = new Map<string, string>();
  private scheduled = false;
  /** No pass before recovery: launching first would duplicate replicas that still run. */
  private paused = true;

  constructor(private readonly d: ReconcileLoopDeps) {
    this.now = d.now ?? Date.now;
    this.limits = d.limits ?? DEFAULT_LIMITS;
    this.ops = new ReplicaOps({
      ...d,
      now: this.now,
      kick: () => this.kick(),
      onFailure: (svc) => this.backoff.set(svc, recordFailure(this.backoff.get(svc), this.now())),
      secretsOf: (svc) => {
        const rec = this.specs.get(svc);
        return rec ? secretValues(rec.spec) : [];
      },
      drainer: d.drainer ?? new Drainer({ now: this.now, warmupMs: 0 }),
      drainTimeoutMs: d.drainTimeoutMs ?? SKYSERVE_DRAIN_SECONDS * 1000,
    });
    d.backend.onEvent((e) => this.onBackend(e));
  }

  setSpec(rec: SpecRecord): void {
    this.specs.set(rec.name, rec);
    const keys = this.launchKeys.get(rec.name) ?? new Map<number, string>();
    keys.set(rec.revision, launchKey(rec.spec));
    this.launchKeys.set(rec.name, keys);
    this.kick();
  }

  /**
   * An older revision of a spec, from the key's history: only its launch key is learnt, so that
   * replicas still labelled with it are relabelled, not replaced, when the current revision
   * differs only in its `service:` section. A term that starts after the spec changed (the
   * lease lost in a NATS election, a `yard up` meanwhile) knows only the latest value from its
   * watch; the term before it had seen every revision.
   */
  olderSpec(rec: SpecRecord): void {
    const keys = this.launchKeys.get(rec.name);
    if (!keys || keys.has(rec.revision)) return;
    keys.set(rec.revision, launchKey(rec.spec));
    this.kick();
  }

  /** Services with live replicas of a revision whose launch key is not known (see olderSpec). */
  servicesMissingLaunchKeys(): string[] {
    const out = new Set<string>();
    for (const r of this.d.store.all()) {
      const keys = this.launchKeys.get(r.service);
      if (keys && ACTIVE_PHASES.includes(r.phase) && !keys.has(r.revision)) out.add(r.service);
    }
    return [...out];
  }

  deleteSpec(name: string): void {
    this.specs.delete(name);
    this.launchKeys.delete(name);
    this.readyRevisions.delete(name);
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

  /** A prober verdict (durable consumer). Stale ones (another launch, already gone) are ignored. */
  onFailed(ev: EventOf<"replica.failed">): void {
    const key = replicaKey(ev.service, ev.replica_id);
    const r = this.d.store.get(key);
    if (
      !r ||
      !PROBED_PHASES.includes(r.phase) ||
      r.revision !== ev.revision ||
      ev.at < (r.launched_at ?? "")
    ) {
      this.d.logger.info({ key, phase: r?.phase ?? null }, "ignoring a stale replica.failed");
      return;
    }
    const phase = FAILED_PHASES.includes(ev.phase) ? ev.phase : "FAILED";
    this.ops.fail(key, this.judged(key, { phase, reason: ev.reason, message: ev.message }, true));
  }

  /** After loading records: adopt what runs, fail what died, stop what nobody tracks. */
  recover(found: FoundReplica[]): void {
    for (const r of this.d.store.all()) {
      this.bumpNextId(r.service, r.id);
      if (r.first_ready_at !== null) this.noteReady(r.service, r.revision);
    }
    for (const f of found) this.bumpNextId(f.service, f.id);
    for (const step of planRecovery(this.d.store.all(), found)) {
      const key = step.type === "kill" ? replicaKey(step.service, step.id) : step.key;
      this.d.logger.info({ step: step.type, key }, "recovery");
      if (step.type === "adopt") {
        const r = this.d.store.get(key)!;
        this.d.backend.adopt(step.found);
        if (r.handle !== step.found.handle) this.d.store.put({ ...r, handle: step.found.handle });
        if (r.phase === "PROVISIONING" && step.found.runStarted) this.ops.started(key);
      } else if (step.type === "resume_drain") {
        this.d.backend.adopt(step.found);
        void this.ops.resumeDrain(key);
      } else if (step.type === "fail")
        // Found dead: how it ended is not known well enough to halt the service on it.
        this.ops.fail(key, { phase: "FAILED", reason: step.reason, message: step.message });
      else if (step.type === "terminate")
        void this.ops.terminate(key, null, step.message ?? "stopping (interrupted)");
      else this.ops.kill(step.service, step.id, step.handle);
    }
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  kick(): void {
    if (this.scheduled || this.paused || this.ops.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.ops.stopped) this.pass();
    });
  }

  /**
   * `yard down NAME --replica-id N [--purge]` (SkyServe's terminate_replica): a live replica is
   * replaced, then drained (at once if it takes no traffic); a failed one's record is removed
   * with `purge` only (it stays to show the failure); one already stopping is a conflict.
   */
  down(service: string, id: number, purge: boolean): Pick<ReplicaDownResult, "action"> {
    const key = replicaKey(service, id);
    const r = this.d.store.get(key);
    if (!r) throw new YardError("SY_ERR_NOT_FOUND", `service ${service} has no replica ${id}`);
    if (FAILED_PHASES.includes(r.phase)) {
      if (!purge)
        throw new YardError(
          "SY_ERR_CONFLICT",
          `replica ${id} of ${service} is ${r.phase}: its record stays to show the failure; remove it with --purge`,
        );
      this.d.store.remove(key);
      this.d.logger.info({ service, replica: id, phase: r.phase }, "failed replica's record purged");
      this.kick();
      return { action: "purged" };
    }
    if (r.phase === "SHUTTING_DOWN")
      throw new YardError("SY_ERR_CONFLICT", `replica ${id} of ${service} is already shutting down`);
    const serving = r.phase === "READY" || this.endpoints.has(key);
    if (!r.retiring) {
      const message = serving
        ? "yard down --replica-id: replaced, then drained"
        : "yard down --replica-id: stopped and replaced";
      this.ops.change({ ...r, retiring: true, message });
      this.kick();
    }
    return { action: serving ? "replacing" : "stopping" };
  }

  /** Stop reconciling; unless `keep`, stop every replica and delete its record (failures stay). */
  async shutdown(keep: boolean): Promise<void> {
    this.ops.stopped = true;
    if (this.wake) clearTimeout(this.wake.timer);
    // Drains end now: kept, a replica goes on draining under the next provisioner (its record
    // says so); else it is stopped below with the rest.
    this.ops.abortDrains();
    await this.ops.settle();
    if (!keep) {
      const live = this.d.store.all().filter((r) => HOLDING_PHASES.includes(r.phase));
      await Promise.allSettled(
        live.map((r) => this.ops.terminate(replicaKey(r.service, r.id), null, "provisioner stopped")),
      );
    }
    await this.d.store.flush();
  }

  private pass(): void {
    const now = this.now();
    const { maxReplicas, launchesPerInterval, launchIntervalMs } = this.limits;
    this.launchTimes = this.launchTimes.filter((t) => t > now - launchIntervalMs);
    const pace = launchBudget(this.launchTimes, now, launchesPerInterval, launchIntervalMs);
    const actions = reconcile({
      now,
      limits: { maxReplicas, launchBudget: pace.budget, nextLaunchAt: pace.nextAt },
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
    this.noteServing();
    const holding = new Set(actions.flatMap((a) => (a.type === "hold" ? [a.service] : [])));
    for (const svc of this.held.keys()) if (!holding.has(svc)) this.held.delete(svc);
    const halting = new Set(actions.flatMap((a) => (a.type === "halted" ? [a.service] : [])));
    for (const svc of this.halted.keys())
      if (!halting.has(svc)) {
        this.halted.delete(svc);
        const revision = this.specs.get(svc)?.revision ?? null;
        if (revision !== null) this.d.logger.info({ service: svc, revision }, "service no longer halted");
      }
  }

  private apply(a: Action): void {
    const { store } = this.d;
    switch (a.type) {
      case "launch":
        this.launchTimes.push(this.now());
        this.bumpNextId(a.service, a.id);
        this.ops.launch(a.service, a.id, a.revision, this.specs.get(a.service)!.spec, a.accelerator);
        break;
      case "pend": {
        this.bumpNextId(a.service, a.id);
        const base = store.get(replicaKey(a.service, a.id)) ?? this.ops.blank(a.service, a.id, a.revision);
        this.ops.change({ ...base, phase: "PENDING", reason: a.reason, message: a.message });
        break;
      }
      case "terminate": {
        const revision = this.specs.get(a.key.split(".")[0])?.revision;
        void this.ops.terminate(a.key, a.reason, stopMessage(a.reason, revision), a.drain ?? false);
        break;
      }
      case "drop":
        store.remove(a.key);
        break;
      case "set_phase": {
        const r = store.get(a.key)!;
        if (a.phase === "READY") {
          this.backoff.delete(r.service);
          this.noteReady(r.service, r.revision);
        }
        const first_ready_at = r.first_ready_at ?? (a.phase === "READY" ? this.ops.iso() : null);
        this.ops.change({ ...r, phase: a.phase, first_ready_at, reason: null, message: null });
        break;
      }
      case "retag":
        store.put({ ...store.get(a.key)!, revision: a.revision });
        break;
      case "wake":
        this.wakeAt(a.at);
        break;
      case "hold":
        this.logHold(a);
        break;
      case "halted":
        this.logHalt(a);
        break;
      case "clear_halt":
        store.put({ ...store.get(a.key)!, unrecoverable: false });
    }
  }

  private onBackend(e: BackendEvent): void {
    // A term that ended (lease lost) hears its backend's last events: the next term, adopting
    // the same replicas, judges them; this one's view is stale and writes nothing.
    if (this.ops.stopped) return;
    const key = replicaKey(e.service, e.id);
    if (e.type === "run_started") this.ops.started(key, e.host);
    else if (e.type === "waiting") this.ops.waiting(key, e.reason, e.message);
    else if (RUNNING_PHASES.includes(this.d.store.get(key)?.phase ?? "UNKNOWN"))
      this.ops.fail(key, this.judged(key, e.failure ?? classifyExit(e.exit), e.exit.stage !== "unknown"));
  }

  /**
   * The failure with its verdict: does it halt the service (SkyServe's unrecoverable_failure)?
   * "Was its revision ever ready" asks the record, the prober's endpoint (it may have seen the
   * replica ready before this pass recorded it) and what this provisioner remembers.
   */
  private judged(key: string, f: FailureNote, causeKnown: boolean): FailureNote {
    const r = this.d.store.get(key);
    if (!r) return f;
    const revisionWasReady =
      r.first_ready_at !== null ||
      this.endpoints.has(key) ||
      (this.readyRevisions.get(r.service)?.has(r.revision) ?? false) ||
      this.d.store
        .all()
        .some((x) => x.service === r.service && x.revision === r.revision && x.first_ready_at !== null);
    return { ...f, unrecoverable: isUnrecoverable({ reason: f.reason, causeKnown, revisionWasReady }) };
  }

  /**
   * The revisions taking traffic (servingRevisions: as the proxies decide it), logged and
   * published as traffic.switched when they change; not on the first pass after a start.
   */
  private noteServing(): void {
    for (const svc of this.serving.keys()) if (!this.specs.has(svc)) this.serving.delete(svc);
    for (const spec of this.specs.values()) {
      const to = servingRevisions(spec, this.d.store.all());
      const before = this.serving.get(spec.name);
      const now = to.join(",");
      if (before === now) continue;
      this.serving.set(spec.name, now);
      if (before === undefined) continue;
      const from = before ? before.split(",").map(Number) : [];
      const mode = spec.update_mode ?? DEFAULT_UPDATE_MODE;
      this.d.logger.info(
        { service: spec.name, revision: spec.revision, mode, from, to },
        "revisions taking traffic changed",
      );
      this.d.publish({
        schema: EVENT_SCHEMA_VERSION,
        type: "traffic.switched",
        service: spec.name,
        at: new Date(this.now()).toISOString(),
        revision: spec.revision,
        mode,
        from,
        to,
      });
    }
  }

  private noteReady(service: string, revision: number): void {
    const set = this.readyRevisions.get(service) ?? new Set<number>();
    set.add(revision);
    this.readyRevisions.set(service, set);
  }

  /** A halt is logged when it starts (and, in pass, when it ends), not on every pass. */
  private logHalt(a: Extract<Action, { type: "halted" }>): void {
    if (this.halted.get(a.service) === a.key) return;
    this.halted.set(a.service, a.key);
    const r = this.d.store.get(a.key);
    if (!r) return;
    this.d.logger.warn(
      { service: a.service, revision: a.revision, replica: r.id, reason: r.reason },
      `service halted: ${describeHalt(r)}`,
    );
  }

  /** A wait is logged when it starts or changes cause (a paced count changes every pass). */
  private logHold(a: Extract<Action, { type: "hold" }>): void {
    if (this.held.get(a.service) === a.cause) return;
    this.held.set(a.service, a.cause);
    const log = a.cause === "max_replicas" ? this.d.logger.warn : this.d.logger.info;
    log.call(this.d.logger, { service: a.service, waiting: a.waiting, cause: a.cause }, a.message);
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

  private bumpNextId(svc: string, id: number): void {
    this.nextId.set(svc, Math.max(this.nextId.get(svc) ?? 1, id + 1));
  }
}

function stopMessage(reason: Reason, revision: number | undefined): string {
  if (reason === "SpecChanged") return `replaced by revision ${revision}`;
  if (reason === "SpecDeleted") return "service deleted";
  if (reason === "ScaledDown") return "scaled down";
  if (reason === "ReplicaDown") return "replaced (yard down --replica-id)";
  return reason;
}
