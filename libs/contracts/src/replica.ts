// @pure: no I/O (tools/lint-boundaries checks it)
import { z } from "zod";
import { ServiceName } from "./names.js";

export const REPLICA_SCHEMA_VERSION = 1;

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
 * - InitialDelayExceeded: never passed a probe within `initial_delay_seconds`.
 * - ProbeFailing: was ready, then failed probes for longer than the threshold.
 * - LaunchFailed: the backend could not start the replica.
 * - Orphaned: found running at provisioner start with no matching spec.
 * - ScaledDown / SpecDeleted / SpecChanged: terminated on purpose.
 */
export const Reason = z.enum([
  "NoAcceleratorFree",
  "PortInUse",
  "SetupFailed",
  "ProcessExited",
  "InitialDelayExceeded",
  "ProbeFailing",
  "LaunchFailed",
  "Orphaned",
  "ScaledDown",
  "SpecDeleted",
  "SpecChanged",
]);
export type Reason = z.infer<typeof Reason>;

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
  /** Backend-specific handle: the local backend stores the process group id. */
  pid: z.number().int().nullable(),
  host: z.string(),
  reason: Reason.nullable(),
  message: z.string().nullable(),
  launched_at: z.string().nullable(),
  updated_at: z.string(),
  /** When the replica first passed a probe; null = never ready. */
  first_ready_at: z.string().nullable().default(null),
});
export type ReplicaRecord = z.infer<typeof ReplicaRecord>;

/** The KV value of `yard-endpoints[<service>.<id>]`: present ⇔ the replica is ready. */
export const EndpointRecord = z.object({
  schema: z.literal(REPLICA_SCHEMA_VERSION),
  service: ServiceName,
  replica_id: z.number().int().positive(),
  url: z.string(),
  revision: z.number().int().positive(),
  accelerator: z.string().nullable(),
  ready_at: z.string(),
});
export type EndpointRecord = z.infer<typeof EndpointRecord>;
