// @pure: no I/O (tools/lint-boundaries checks it)
import { z } from "zod";
import { ServiceName } from "./names.js";
import { Reason, ReplicaPhase } from "./replica.js";
import { UpdateMode } from "./rollout.js";
import { ScaleReason } from "./scale.js";
import { ReplicaPolicy } from "./spec.js";

export const EVENT_SCHEMA_VERSION = 1;

const base = { schema: z.literal(EVENT_SCHEMA_VERSION), service: ServiceName, at: z.string() };
const replicaBase = {
  ...base,
  replica_id: z.number().int().positive(),
  revision: z.number().int().positive(),
};

/** Every event on `yard.events.<service>.<type>`; past tense, literal `type`. */
export const YardEvent = z.discriminatedUnion("type", [
  z.object({ ...base, type: z.literal("spec.published"), revision: z.number().int().positive() }),
  z.object({ ...base, type: z.literal("spec.deleted"), revision: z.number().int().positive() }),
  z.object({ ...replicaBase, type: z.literal("replica.launched"), url: z.string().nullable() }),
  z.object({
    ...replicaBase,
    type: z.literal("replica.phase_changed"),
    phase: ReplicaPhase,
    reason: Reason.nullable(),
    message: z.string().nullable(),
  }),
  z.object({ ...replicaBase, type: z.literal("replica.ready"), url: z.string() }),
  z.object({ ...replicaBase, type: z.literal("replica.unready"), message: z.string() }),
  z.object({
    ...replicaBase,
    type: z.literal("replica.failed"),
    reason: Reason,
    message: z.string(),
    /** The phase the provisioner should record, e.g. FAILED_INITIAL_DELAY. */
    phase: ReplicaPhase,
  }),
  z.object({ ...replicaBase, type: z.literal("replica.terminated"), reason: Reason.nullable() }),
  /** Out of every proxy's rotation; stopped once no request is in flight on it, or at `deadline`. */
  z.object({
    ...replicaBase,
    type: z.literal("replica.draining"),
    reason: Reason,
    deadline: z.string(),
  }),
  /**
   * The drain is over and the stop begins: `idle` (no proxy reports a request in flight on it),
   * `timeout` (YARD_DRAIN_TIMEOUT_S ran out with `in_flight` requests still on it).
   */
  z.object({
    ...replicaBase,
    type: z.literal("replica.drained"),
    outcome: z.enum(["idle", "timeout"]),
    in_flight: z.number().int().nonnegative(),
    waited_ms: z.number().int().nonnegative(),
  }),
  /**
   * The revisions taking traffic changed (SkyServe's active versions), e.g. [1] → [1, 2] → [2]
   * in a rolling update, [1] → [2] at a blue-green switch. `revision`: the spec's current one.
   */
  z.object({
    ...base,
    type: z.literal("traffic.switched"),
    revision: z.number().int().positive(),
    mode: UpdateMode,
    from: z.array(z.number().int().positive()),
    to: z.array(z.number().int().positive()),
  }),
  /** The autoscaler changed a service's `yard-scale` target (`from` null: it had none). */
  z.object({
    ...base,
    type: z.literal("autoscaler.decided"),
    revision: z.number().int().positive(),
    from: z.number().int().nonnegative().nullable(),
    to: z.number().int().nonnegative(),
    reason: ScaleReason,
    qps: z.number().nonnegative().nullable(),
    target_qps_per_replica: ReplicaPolicy.shape.target_qps_per_replica,
  }),
]);
export type YardEvent = z.infer<typeof YardEvent>;
export type YardEventType = YardEvent["type"];
export type EventOf<T extends YardEventType> = Extract<YardEvent, { type: T }>;

/**
 * A proxy's hint: this replica refused a connection; probe it now. Strict: a record of another
 * kind (a replica record has the same `service` and `replica_id`) is not a hint.
 */
export const ProbeHint = z.strictObject({
  schema: z.literal(EVENT_SCHEMA_VERSION),
  service: ServiceName,
  replica_id: z.number().int().positive(),
  url: z.string(),
});
export type ProbeHint = z.infer<typeof ProbeHint>;
