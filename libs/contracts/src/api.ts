// @pure: no I/O (tools/lint-boundaries checks it)
import { z } from "zod";
import { ErrorBody } from "./errors.js";
import { ServiceName } from "./names.js";
import { UpdateMode } from "./rollout.js";
import { SpecRecord } from "./spec.js";
import { TlsMaterial } from "./tls.js";

export const API_SCHEMA_VERSION = 1;
const EnvMap = z.record(z.string(), z.string());

// Requests are strict: an unknown key is SY_ERR_BAD_REQUEST naming it, never silently dropped
// (a record of another kind, e.g. a route delivered by a JetStream consumer, is not a request).

/** `yard.api.spec.apply` and `POST /v1/services`. Env precedence: YAML envs < env_file < env. */
export const ApplyRequest = z.strictObject({
  yaml: z.string(),
  name: ServiceName.optional(),
  /** The file the YAML came from: names it in messages and gives a default service name. */
  file_name: z.string().optional(),
  env_file: EnvMap.default({}),
  env: EnvMap.default({}),
  secrets: EnvMap.default({}),
  /** The contents of `service.tls`'s certfile and keyfile (the YAML names only paths). */
  tls: TlsMaterial.optional(),
  /** Validate and resolve only; nothing is stored. */
  dry_run: z.boolean().default(false),
  /**
   * `yard update`: the service must exist already (else SY_ERR_NOT_FOUND), and a changed spec
   * rolls out in this mode (stored in the record). Absent (`yard up`): created or rolled.
   */
  update_mode: UpdateMode.optional(),
});
export type ApplyRequest = z.input<typeof ApplyRequest>;

/** Successful apply: the stored record with secrets masked. */
export const ApplyResult = z.object({
  record: SpecRecord,
  /** false when the resolved spec equals the stored one (no new revision). */
  changed: z.boolean(),
  warnings: z.array(z.string()),
});
export type ApplyResult = z.infer<typeof ApplyResult>;

export const NameRequest = z.strictObject({ name: ServiceName });
/** `yard.api.spec.list`: no fields. */
export const ListRequest = z.strictObject({});
export const ListResult = z.object({ records: z.array(SpecRecord) });
export const DeleteResult = z.object({ name: ServiceName, deleted: z.boolean() });

/** Every request/reply answer: `{ok:true, data}` or `{ok:false, error}`. */
export function reply<T extends z.ZodType>(data: T) {
  return z.discriminatedUnion("ok", [
    z.object({ ok: z.literal(true), data }),
    z.object({ ok: z.literal(false), error: ErrorBody }),
  ]);
}

/** `yard.api.replica.logs`: a chunk of a replica's log, served by the provisioner. */
export const LogsRequest = z.strictObject({
  service: ServiceName,
  /** Omitted: the newest replica of the service. */
  replica_id: z.number().int().positive().optional(),
  offset: z.number().int().nonnegative().default(0),
  /** Negative offset from the end when `tail_bytes` is given and offset is 0. */
  tail_bytes: z.number().int().positive().optional(),
  max_bytes: z.number().int().positive().max(1_000_000).default(256_000),
});
export const LogsResult = z.object({
  replica_id: z.number().int().positive(),
  data: z.string(),
  next_offset: z.number().int().nonnegative(),
  /** false while the replica may still write. */
  finished: z.boolean(),
});
export type LogsResult = z.infer<typeof LogsResult>;

/**
 * `yard.api.replica.down` (`yard down NAME --replica-id N [--purge]`, SkyServe's
 * terminate_replica), answered by the provisioner: a live replica is drained and stopped, and
 * the service gets a replacement; a failed one's record is removed only with `purge`.
 */
export const ReplicaDownRequest = z.strictObject({
  service: ServiceName,
  replica_id: z.number().int().positive(),
  purge: z.boolean().default(false),
});
export type ReplicaDownRequest = z.input<typeof ReplicaDownRequest>;
export const ReplicaDownResult = z.object({
  service: ServiceName,
  replica_id: z.number().int().positive(),
  /**
   * replacing: it serves until its replacement is ready, then drains and stops; stopping: it took
   * no traffic and stops now; purged: its (failed) record was removed.
   */
  action: z.enum(["replacing", "stopping", "purged"]),
});
export type ReplicaDownResult = z.infer<typeof ReplicaDownResult>;
