// @pure: no I/O (tools/lint-boundaries checks it)
import { z } from "zod";
import { ServiceName } from "./names.js";

export const REPLICA_SCHEMA_VERSION = 1;

/** A failed replica's record keeps at most this many of its last log lines ... */
export const LOG_TAIL_LINES = 10;
/** ... each cut to this many characters. */
export const LOG_TAIL_LINE_CHARS = 240;

/** Replica phases, named as SkyServe's ReplicaStatus (research/skyserve.md §2.1). */
export const ReplicaPhase = z.enum([
  "PENDING",
  "PROVISIONING",
  "STARTING",
  "READY",
  "NOT_READY",
  "SHUTTING_DOWN",
  "FAILED",
  "FAILED_INITIAL_DELAY",
  "FAILED_PROBING",
  "FAILED_PROVISION",
  "FAILED_CLEANUP",
  "PREEMPTED",
  "UNKNOWN",
]);
export type ReplicaPhase = z.infer<typeof ReplicaPhase>;

export const FAILED_PHASES: readonly ReplicaPhase[] = [
  "FAILED",
  "FAILED_INITIAL_DELAY",
  "FAILED_PROBING",
  "FAILED_PROVISION",
  "FAILED_CLEANUP",
  "UNKNOWN",
];
/** Phases in which a replica's process may be running and the prober should probe it. */
export const PROBED_PHASES: readonly ReplicaPhase[] = ["STARTING", "READY", "NOT_READY"];
/** Phases whose process may run: launched (setup or run) and not yet being stopped. */
export const RUNNING_PHASES: readonly ReplicaPhase[] = ["PROVISIONING", ...PROBED_PHASES];
/** Phases whose process may still exist (running, or being stopped): it holds its GPUs and port. */
export const HOLDING_PHASES: readonly ReplicaPhase[] = [...RUNNING_PHASES, "SHUTTING_DOWN"];
/** Phases that count toward a service's desired replicas: running, or waiting for a GPU. */
export const ACTIVE_PHASES: readonly ReplicaPhase[] = ["PENDING", ...RUNNING_PHASES];
/** SkyServe's scale_down_decision_order: the least useful replica is stopped first. */
export const SCALE_DOWN_ORDER: readonly ReplicaPhase[] = [
  "PENDING",
  "PROVISIONING",
  "STARTING",
  "NOT_READY",
  "READY",
];

/**
 * Why a replica is not (yet) serving. A closed set: every `reason` on the bus is one of these,
 * with a human `message` beside it.
 * - NoAcceleratorFree: no candidate of the spec's accelerator set is free in the inventory.
 * - PortInUse: the replica's port was taken when it started.
 * - SetupFailed: `setup` exited non-zero.
 * - ProcessExited: the `run` process exited.
 * - OutOfMemory: the replica was killed for passing its memory limit (a container's OOM kill).
 * - Unschedulable: launched, but the cluster's scheduler cannot place its Pod (its message says why).
 * - ImagePullFailed: its image cannot be pulled or used (FAILED_PROVISION).
 * - Preempted: taken off its node (evicted, preempted, node lost, its Pod deleted by someone else).
 * - InitialDelayExceeded: never passed a probe within `initial_delay_seconds`.
 * - ProbeFailing: was ready, then failed probes for longer than the threshold.
 * - LaunchFailed: the backend could not start the replica.
 * - Orphaned: found running at provisioner start with no matching spec.
 * - ScaledDown / SpecDeleted / SpecChanged: terminated on purpose.
 * - ReplicaDown: terminated on purpose by `yard down NAME --replica-id N` (then replaced).
 */
export const Reason = z.enum([
  "NoAcceleratorFree",
  "PortInUse",
  "SetupFailed",
  "ProcessExited",
  "OutOfMemory",
  "Unschedulable",
  "ImagePullFailed",
  "Preempted",
  "InitialDelayExceeded",
  "ProbeFailing",
  "LaunchFailed",
  "Orphaned",
  "ScaledDown",
  "SpecDeleted",
  "SpecChanged",
  "ReplicaDown",
]);
export type Reason = z.infer<typeof Reason>;

/**
 * A replica being drained (phase SHUTTING_DOWN): out of every proxy's rotation (its endpoint says
 * `draining`), it keeps running until the proxies report no request in flight on it, or until
 * `deadline` (YARD_DRAIN_TIMEOUT_S), then it is stopped. Null once the stop begins.
 */
export const Drain = z.object({
  since: z.string(),
  deadline: z.string(),
  /** Requests the proxies last reported in flight on it; null before any report counted. */
  in_flight: z.number().int().nonnegative().nullable(),
});
export type Drain = z.infer<typeof Drain>;

/** The KV value of `yard-replicas[<service>.<id>]`, written only by the provisioner. */
export const ReplicaRecord = z.object({
  schema: z.literal(REPLICA_SCHEMA_VERSION),
  service: ServiceName,
  id: z.number().int().positive(),
  /** The spec revision this replica was launched from. */
  revision: z.number().int().positive(),
  phase: ReplicaPhase,
  backend: z.string(),
  /** Base URL the proxy and prober use, e.g. http://127.0.0.1:8000 ; null until launched. */
  url: z.string().nullable(),
  port: z.number().int().nullable(),
  /** The accelerator it holds, e.g. "L4" (count in accelerator_count); null = CPU. */
  accelerator: z.string().nullable(),
  accelerator_count: z.number().nullable().default(null),
  gpu_indices: z.array(z.number().int()).default([]),
  /**
   * The backend's opaque handle of the replica (which `backend` says how to read: the local
   * backend's process group id, the docker backend's container id); null until launched.
   * Records written before handles existed (with `pid`) read as null: the provisioner learns
   * the handle again from its backend when it adopts the replica.
   */
  handle: z.string().max(256).nullable().default(null),
  host: z.string(),
  reason: Reason.nullable(),
  message: z.string().nullable(),
  launched_at: z.string().nullable(),
  updated_at: z.string(),
  /** When the replica first passed a probe; null = never ready. */
  first_ready_at: z.string().nullable().default(null),
  /**
   * A failure that halts its revision's launches (SkyServe's unrecoverable_failure, decided by
   * isUnrecoverable when the failure is recorded; see haltingFailure). Cleared once a replica of
   * the revision is ready.
   */
  unrecoverable: z.boolean().default(false),
  /** A failed replica's last log lines (secrets masked, control characters replaced); else []. */
  log_tail: z.array(z.string().max(LOG_TAIL_LINE_CHARS)).max(LOG_TAIL_LINES).default([]),
  /**
   * `yard down NAME --replica-id N`: it is replaced, and drained once the service has its
   * replicas ready without it (at once when it takes no traffic).
   */
  retiring: z.boolean().default(false),
  /** Set while the replica drains before its stop (see Drain); null otherwise. */
  drain: Drain.nullable().default(null),
});
export type ReplicaRecord = z.infer<typeof ReplicaRecord>;

/**
 * Failures that say the app itself is broken (SkyServe's user_app_failed, and its initial delay
 * exceeded): `setup` or `run` exited, or no probe passed within `initial_delay_seconds`. Not a
 * port clash, a launch the backend could not do (SkyServe's FAILED_PROVISION does not halt
 * either), nor probes failing after ready: those replicas are replaced.
 */
export const APP_FAILURE_REASONS: readonly Reason[] = [
  "SetupFailed",
  "ProcessExited",
  "OutOfMemory",
  "InitialDelayExceeded",
];

/** What the provisioner knows of a failure when it records it. */
export interface FailureFacts {
  reason: Reason;
  /**
   * It saw how the replica ended (an exit status, a probe verdict). False for processes found
   * gone with no status (killed with their runner, found dead at a restart): a lost host, not
   * necessarily the app.
   */
  causeKnown: boolean;
  /** A replica of the same revision, this one included, has passed a probe. */
  revisionWasReady: boolean;
}

/**
 * SkyServe's `unrecoverable_failure` (research/skyserve.md §2.2): terminal, never ready, and
 * the app failed or its initial delay ran out. SkyServe also asks that no replica of the version
 * was ever ready (`latest_version_ever_ready`): once one was, failures are taken as accidents
 * and replaced.
 */
export function isUnrecoverable(f: FailureFacts): boolean {
  return f.causeKnown && !f.revisionWasReady && APP_FAILURE_REASONS.includes(f.reason);
}

/**
 * The failure that halts launches of `revision` of `service` (SkyServe stops scaling on one):
 * the newest failed record of that revision marked unrecoverable, while none of the revision's
 * replicas has passed a probe (one that does lifts the halt, as in SkyServe). null: not halted.
 * A new revision (`yard up` with a changed spec) is not halted by an older one's failures. The
 * provisioner launches nothing for a halted revision; `yard status` shows it FAILED with this
 * record's reason and log tail.
 */
export function haltingFailure(
  replicas: readonly ReplicaRecord[],
  service: string,
  revision: number,
): ReplicaRecord | null {
  const mine = replicas.filter((r) => r.service === service && r.revision === revision);
  if (mine.some((r) => r.first_ready_at !== null || r.phase === "READY")) return null;
  const halting = mine.filter((r) => r.unrecoverable && FAILED_PHASES.includes(r.phase));
  return halting.sort((a, b) => b.id - a.id)[0] ?? null;
}

/** One sentence on a halt, for the provisioner's log and `yard status`. */
export function describeHalt(r: ReplicaRecord): string {
  const why = [r.reason, r.message].filter(Boolean).join(": ");
  return (
    `replica ${r.id} of revision ${r.revision} failed before any replica of that revision was ready` +
    `${why ? ` (${why})` : ""}; nothing new launches until the spec changes (yard up)`
  );
}

/**
 * The KV value of `yard-endpoints[<service>.<id>]`: present ⇔ the replica is ready, or was
 * ready and now drains (`draining`: proxies pick it for no new request, and let the ones in
 * flight on it finish).
 */
export const EndpointRecord = z.object({
  schema: z.literal(REPLICA_SCHEMA_VERSION),
  service: ServiceName,
  replica_id: z.number().int().positive(),
  url: z.string(),
  revision: z.number().int().positive(),
  accelerator: z.string().nullable(),
  ready_at: z.string(),
  /** Its replica drains (ReplicaRecord.drain): no new request goes to it. */
  draining: z.boolean().default(false),
});
export type EndpointRecord = z.infer<typeof EndpointRecord>;
