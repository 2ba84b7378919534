import { createHash } from "node:crypto";
import {
  type ApplyResult,
  maskSpec,
  type ResolvedSpec,
  SPEC_SCHEMA_VERSION,
  type SpecRecord,
  type UpdateMode,
  YardError,
} from "@switchyard/contracts";

/**
 * JSON with object keys sorted at every level, so that two equal specs always give the same
 * text whatever order the resolver built their maps in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .filter((k) => o[k] !== undefined)
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return v;
}

/** sha256 (hex) of the canonical JSON of a resolved spec. */
export function digestOf(spec: ResolvedSpec): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex");
}

export type ApplyDecision =
  | { changed: false; record: SpecRecord }
  | { changed: true; record: SpecRecord; previousRevision: number | null };

/**
 * What an apply does given the stored record (null = none): the same digest keeps the stored
 * record untouched (no new revision, no event); anything else is the next revision.
 * `deletedRevision` is the revision of a record deleted earlier under this name: revisions
 * keep counting up across a delete, so no replica of an old incarnation can pass as current.
 * `updateMode` (`yard update`): the service must exist; a new revision records the mode it
 * rolls out in (an unchanged spec changes nothing, whatever the mode).
 */
export function decideApply(
  stored: SpecRecord | null,
  spec: ResolvedSpec,
  now: Date,
  deletedRevision = 0,
  updateMode?: UpdateMode,
): ApplyDecision {
  if (updateMode && !stored)
    throw new YardError(
      "SY_ERR_NOT_FOUND",
      `no service named '${spec.name}' to update: start it with yard up (or give the name of a running service)`,
    );
  const digest = digestOf(spec);
  if (stored && stored.digest === digest) return { changed: false, record: stored };
  const base = Math.max(stored?.revision ?? 0, deletedRevision);
  return {
    changed: true,
    previousRevision: stored?.revision ?? null,
    record: {
      schema: SPEC_SCHEMA_VERSION,
      name: spec.name,
      revision: base + 1,
      digest,
      applied_at: now.toISOString(),
      spec,
      ...(updateMode ? { update_mode: updateMode } : {}),
    },
  };
}

/** A record safe to hand to any client: secrets masked. */
export function maskRecord(rec: SpecRecord): SpecRecord {
  return { ...rec, spec: maskSpec(rec.spec) };
}

export function applyResult(d: ApplyDecision, warnings: string[]): ApplyResult {
  return { record: maskRecord(d.record), changed: d.changed, warnings };
}
