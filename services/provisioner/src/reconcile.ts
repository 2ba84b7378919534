// @pure: no I/O (tools/lint-boundaries checks it)
import {
  ACTIVE_PHASES,
  activeRevisions,
  DEFAULT_UPDATE_MODE,
  FAILED_PHASES,
  HOLDING_PHASES,
  haltingFailure,
  type Reason,
  type ReplicaRecord,
  RUNNING_PHASES,
  replicaKey,
  SCALE_DOWN_ORDER,
  type SpecRecord,
} from "@switchyard/contracts";
import { type Backoff, launchAllowedAt } from "./backoff.js";
import { type Allocation, allocate, type Gpu, noAcceleratorMessage } from "./inventory.js";

/** Everything the reconciler decides from: the provisioner's whole view of the world. */
export interface World {
  now: number;
  specs: ReadonlyMap<string, SpecRecord>;
  /** yard-scale targets (autoscaler), when present. */
  scale: ReadonlyMap<string, number>;
  replicas: readonly ReplicaRecord[];
  /** Keys (`svc.id`) present in yard-endpoints. */
  endpoints: ReadonlySet<string>;
  inventory: readonly Gpu[];
  backoff: ReadonlyMap<string, Backoff>;
  /** Next unused replica id per service (ids are never reused). */
  nextId: ReadonlyMap<string, number>;
  /** True when `revision`'s launch fields equal the current spec's: update such replicas in place. */
  sameLaunch: (service: string, revision: number) => boolean;
  /** Caps over all services (absent: none). */
  limits?: Limits;
}

/** The provisioner's caps, whatever the specs ask for (a spec is already capped per service). */
export interface Limits {
  /** YARD_MAX_REPLICAS: replica records that may exist at once (pending, running or stopping). */
  maxReplicas: number;
  /** Launches this pass may start (launchBudget: YARD_LAUNCHES_PER_INTERVAL pacing). */
  launchBudget: number;
  /** When the budget grows again once spent (a reconcile pass then wakes to launch more). */
  nextLaunchAt: number;
}

export type Action =
  | { type: "launch"; service: string; id: number; revision: number; accelerator: Allocation | null }
  | { type: "pend"; service: string; id: number; revision: number; reason: Reason; message: string }
  /**
   * Set SHUTTING_DOWN, stop the process group, delete the record. `drain`: proxies route to it
   * (its endpoint is up): take it out of their rotation and wait for its requests first.
   */
  | { type: "terminate"; key: string; reason: Reason; drain?: true }
  /** Delete a record that has no process (PENDING, old failures). */
  | { type: "drop"; key: string }
  | { type: "set_phase"; key: string; phase: "READY" | "NOT_READY" }
  /** The spec changed only in its `service:` section: the replica now counts as the new revision. */
  | { type: "retag"; key: string; revision: number }
  /** Reconcile again at this time (a backoff ends). */
  | { type: "wake"; at: number }
  /** Replicas the spec wants that are not created yet, and why (for the log). */
  | { type: "hold"; service: string; waiting: number; cause: "max_replicas" | "paced"; message: string }
  /** The current revision is halted by this failure (haltingFailure): nothing of it launches. */
  | { type: "halted"; service: string; revision: number; key: string }
  /** A replica of the failure's revision became ready: the failure no longer halts it. */
  | { type: "clear_halt"; key: string };

export const KEEP_FAILED = 3;

export function desiredReplicas(spec: SpecRecord, scale: number | undefined): number {
  const p = spec.spec.service.replica_policy;
  if (scale === undefined) return p.min_replicas;
  // SkyServe's final target is the clipped target plus num_overprovision: it may pass max_replicas.
  const max = Math.max(p.max_replicas, p.min_replicas) + p.num_overprovision;
  return Math.max(p.min_replicas, Math.min(max, scale));
}

/** GPU indices held by replicas whose processes may run (or are being stopped). */
export function gpusInUse(replicas: readonly ReplicaRecord[]): Set<number> {
  const held = replicas.filter((r) => HOLDING_PHASES.includes(r.phase));
  return new Set(held.flatMap((r) => r.gpu_indices));
}

/** Phases that take one of YARD_MAX_REPLICAS's places: a record that is or may become a process. */
const COUNTED_PHASES = [...ACTIVE_PHASES, "SHUTTING_DOWN"];

/**
 * Launches allowed now in a sliding window: at most `perInterval` in any `intervalMs`, given
 * the times of the recent ones. `nextAt` is when the budget grows again once spent: when the
 * oldest launch in the window leaves it (or, with none in it, one interval after launches now).
 */
export function launchBudget(
  recent: readonly number[],
  now: number,
  perInterval: number,
  intervalMs: number,
): { budget: number; nextAt: number } {
  const inWindow = recent.filter((t) => t > now - intervalMs);
  const budget = Math.max(0, perInterval - inWindow.length);
  return { budget, nextAt: (inWindow.length > 0 ? Math.min(...inWindow) : now) + intervalMs };
}

/** What is left of the caps in this pass; shared by every service, in name order. */
class Budget {
  private used: number;
  private launches: number;
  constructor(
    private readonly limits: Limits | undefined,
    replicas: readonly ReplicaRecord[],
  ) {
    this.used = replicas.filter((r) => COUNTED_PHASES.includes(r.phase)).length;
    this.launches = limits?.launchBudget ?? Number.POSITIVE_INFINITY;
  }
  canLaunch(): boolean {
    return this.launches > 0;
  }
  launched(): void {
    this.launches--;
  }
  /** A place for a new replica record, if the total cap leaves one. */
  takePlace(): boolean {
    if (this.limits && this.used >= this.limits.maxReplicas) return false;
    this.used++;
    return true;
  }
  held(service: string, waiting: number, cause: "max_replicas" | "paced"): Action[] {
    const l = this.limits!;
    const message =
      cause === "max_replicas"
        ? `${waiting} replica(s) wait: ${l.maxReplicas} replicas exist across all services (YARD_MAX_REPLICAS)`
        : `${waiting} replica(s) wait for their launch: launches are paced (YARD_LAUNCHES_PER_INTERVAL)`;
    const hold: Action = { type: "hold", service, waiting, cause, message };
    return cause === "paced" ? [hold, { type: "wake", at: l.nextLaunchAt }] : [hold];
  }
}

/** Level-triggered and idempotent: the same world gives the same actions, applied or not. */
export function reconcile(w: World): Action[] {
  const actions: Action[] = [];
  const inUse = gpusInUse(w.replicas);
  const budget = new Budget(w.limits, w.replicas);
  const services = new Set([...w.specs.keys(), ...w.replicas.map((r) => r.service)]);
  for (const svc of [...services].sort()) {
    const recs = w.replicas.filter((r) => r.service === svc);
    const spec = w.specs.get(svc);
    if (spec) reconcileService(w, spec, recs, inUse, budget, actions);
    else
      for (const r of recs) {
        const key = replicaKey(r.service, r.id);
        if (RUNNING_PHASES.includes(r.phase))
          actions.push({ type: "terminate", key, reason: "SpecDeleted", ...drainIf(w, key) });
        else if (r.phase !== "SHUTTING_DOWN") actions.push({ type: "drop", key });
      }
  }
  return actions;
}

function reconcileService(
  w: World,
  spec: SpecRecord,
  recs: readonly ReplicaRecord[],
  inUse: Set<number>,
  budget: Budget,
  out: Action[],
): void {
  const svc = spec.name;
  const R = spec.revision;
  const D = desiredReplicas(spec, w.scale.get(svc));
  const key = (r: ReplicaRecord) => replicaKey(svc, r.id);
  // Work on copies that reflect this pass's decisions (retag, phase).
  const view = recs.map((r) => ({ ...r }));

  for (const r of view) {
    if (ACTIVE_PHASES.includes(r.phase) && r.revision !== R && w.sameLaunch(svc, r.revision)) {
      out.push({ type: "retag", key: key(r), revision: R });
      r.revision = R;
    }
    const ready = w.endpoints.has(key(r));
    if (ready && (r.phase === "STARTING" || r.phase === "NOT_READY")) {
      out.push({ type: "set_phase", key: key(r), phase: "READY" });
      r.phase = "READY";
    } else if (!ready && r.phase === "READY") {
      out.push({ type: "set_phase", key: key(r), phase: "NOT_READY" });
      r.phase = "NOT_READY";
    }
  }

  // SkyServe halts a revision on an unrecoverable failure, until one of its replicas is ready
  // (then its failures stop counting, for good) or the spec changes.
  const halt = haltingFailure(view, svc, R);
  const revisionReady = view.some(
    (r) => r.revision === R && (r.first_ready_at !== null || r.phase === "READY"),
  );
  // Failures stay visible: the last KEEP_FAILED of the current revision, and the one that halts
  // it; older ones go.
  // A preempted replica (kubernetes: evicted, its Pod deleted) is kept in view as a failure is.
  const failed = view
    .filter((r) => FAILED_PHASES.includes(r.phase) || r.phase === "PREEMPTED")
    .sort((a, b) => b.id - a.id);
  const keptFailed = failed.filter((r) => r.revision === R).slice(0, KEEP_FAILED);
  if (halt && !keptFailed.some((r) => r.id === halt.id)) keptFailed.push(halt);
  for (const r of failed) if (!keptFailed.includes(r)) out.push({ type: "drop", key: key(r) });
  if (revisionReady)
    for (const r of keptFailed) if (r.unrecoverable) out.push({ type: "clear_halt", key: key(r) });

  // A retiring replica (yard down --replica-id) is replaced like one of an old revision: its
  // replacement launches now, and it is drained once the service is ready without it.
  const live = view.filter((r) => ACTIVE_PHASES.includes(r.phase));
  const cur = live.filter((r) => r.revision === R && !r.retiring);
  const old = live.filter((r) => r.revision !== R || r.retiring);

  // Too many: stop the least useful first.
  const surplus = byDownOrder(cur).slice(0, Math.max(0, cur.length - D));
  for (const r of surplus) stop(r, "ScaledDown");
  const kept = cur.filter((r) => !surplus.includes(r));

  // Pending ones first (they waited longest), then new ids.
  const cands = spec.spec.resources.accelerators;
  let pendingForGpu = 0;
  const place = (id: number, existing: ReplicaRecord | null) => {
    const acc = cands.length ? allocate(cands, w.inventory, inUse) : null;
    if (cands.length === 0 || acc) {
      for (const i of acc?.indices ?? []) inUse.add(i);
      budget.launched();
      out.push({ type: "launch", service: svc, id, revision: R, accelerator: acc });
      return;
    }
    pendingForGpu++;
    const message = noAcceleratorMessage(cands, w.inventory, inUse);
    if (existing?.message !== message || existing?.reason !== "NoAcceleratorFree")
      out.push({ type: "pend", service: svc, id, revision: R, reason: "NoAcceleratorFree", message });
  };
  // Paced: what is not placed now is placed in a later pass (no record meanwhile, so a
  // million-replica spec never becomes a million records).
  let paced = 0;
  let capped = 0;
  const pending = kept.filter((r) => r.phase === "PENDING");
  if (halt) {
    // Nothing of a halted revision launches, not even what waited for a GPU.
    for (const r of pending) out.push({ type: "drop", key: key(r) });
    out.push({ type: "halted", service: svc, revision: R, key: key(halt) });
  } else
    for (const [i, r] of pending.entries()) {
      if (!budget.canLaunch()) {
        paced = pending.length - i;
        break;
      }
      place(r.id, r);
    }

  const missing = halt ? 0 : D - kept.length;
  if (missing > 0) {
    const wait = launchAllowedAt(w.backoff.get(svc), w.now);
    if (wait !== null) out.push({ type: "wake", at: wait });
    else {
      let next = Math.max(w.nextId.get(svc) ?? 1, ...recs.map((r) => r.id + 1));
      for (let i = 0; i < missing; i++) {
        if (!budget.canLaunch()) paced += missing - i;
        else if (!budget.takePlace()) capped = missing - i;
        else {
          place(next++, null);
          continue;
        }
        break;
      }
    }
  }
  if (capped > 0) out.push(...budget.held(svc, capped, "max_replicas"));
  if (paced > 0) out.push(...budget.held(svc, paced, "paced"));

  // A retiring replica that takes no traffic goes at once: nothing waits for its replacement.
  for (const r of old.filter((r) => r.retiring && r.phase !== "READY")) stop(r, "ReplicaDown");
  const outgoing = old.filter((r) => !r.retiring || r.phase === "READY");
  const why = (r: ReplicaRecord): Reason => (r.revision === R ? "ReplicaDown" : "SpecChanged");

  let rolling = outgoing;
  if ((spec.update_mode ?? DEFAULT_UPDATE_MODE) === "blue_green") {
    // Blue-green: the old set serves, whole, until the new revision takes the traffic
    // (activeRevisions: enough of it ready); then all of it drains. Replicas of a revision that
    // does not serve (a newer revision that never got the traffic) go at once.
    const serving = servingRevisions(spec, view);
    for (const r of outgoing)
      if (r.revision !== R && (serving.includes(R) || !serving.includes(r.revision))) stop(r, "SpecChanged");
    rolling = outgoing.filter((r) => r.revision === R);
  }
  // Rolling update: keep old replicas while the new revision is not ready; when the inventory
  // is full (new ones pending for a GPU), give an old replica's GPU up instead of waiting forever.
  const newReady = kept.filter((r) => r.phase === "READY").length;
  // Replicas held back by YARD_MAX_REPLICAS count like those: old ones give their places up.
  const keepOld = Math.max(0, D - newReady - pendingForGpu - capped);
  for (const r of byDownOrder(rolling).slice(0, Math.max(0, rolling.length - keepOld))) stop(r, why(r));

  function stop(r: ReplicaRecord, reason: Reason) {
    if (r.phase === "PENDING") out.push({ type: "drop", key: key(r) });
    else out.push({ type: "terminate", key: key(r), reason, ...drainIf(w, key(r)) });
  }
}

/** Proxies route to a replica whose endpoint is up: it drains before it stops. */
function drainIf(w: World, key: string): { drain?: true } {
  return w.endpoints.has(key) ? { drain: true } : {};
}

/**
 * The revisions of a service that take traffic now (activeRevisions over its routable
 * replicas: READY, not being stopped), as every proxy decides it from the same endpoints.
 */
export function servingRevisions(spec: SpecRecord, replicas: readonly ReplicaRecord[]): number[] {
  const routable = replicas.filter((r) => r.service === spec.name && r.phase === "READY");
  return activeRevisions(
    routable.map((r) => r.revision),
    {
      revision: spec.revision,
      mode: spec.update_mode ?? DEFAULT_UPDATE_MODE,
      minReplicas: spec.spec.service.replica_policy.min_replicas,
    },
  );
}

function byDownOrder(rs: readonly ReplicaRecord[]): ReplicaRecord[] {
  return [...rs].sort(
    (a, b) => SCALE_DOWN_ORDER.indexOf(a.phase) - SCALE_DOWN_ORDER.indexOf(b.phase) || b.id - a.id,
  );
}
