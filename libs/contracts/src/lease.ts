// @pure: no I/O (tools/lint-boundaries checks it)
import { z } from "zod";

export const LEASE_SCHEMA_VERSION = 1;

/**
 * The lease of a single writer (spec, provisioner, prober, autoscaler): `yard-leases[<role>]`.
 * Whoever holds the key's latest revision acts; it renews by `update(key, value, revision)`, so
 * a renewal succeeds only while nobody took the key since. A standby that sees no new revision
 * for `ttl_ms` (its own clock, from when it saw the last one: no clock is compared across hosts)
 * takes the key with `update(key, value, thatRevision)`; of several standbys one wins.
 */
export const LeaseRecord = z
  .object({
    schema: z.literal(LEASE_SCHEMA_VERSION),
    /** Who holds it: `<host>:<pid>` of the instance (logs name it too). */
    holder: z.string().min(1).max(256),
    /** How long a standby waits after the last renewal it saw. */
    ttl_ms: z.number().int().min(100).max(60_000),
    /** When this holder took the lease (ISO 8601; for people, never compared). */
    acquired_at: z.string().max(64),
  })
  .strict();
export type LeaseRecord = z.infer<typeof LeaseRecord>;

/**
 * Defaults of YARD_LEASE_TTL_MS / YARD_LEASE_RENEW_MS. TTL 3 s with a renewal every 1 s: two
 * renewals may be lost (a GC pause, a NATS reconnect) before a standby takes over, and a dead
 * leader is replaced 2-3 s after it stops (its last renewal was 0-1 s before) plus the
 * standby's start-up: under the 5 s target. Shorter leases would flap on a loaded host.
 */
export const LEASE_DEFAULTS = { ttlMs: 3_000, renewMs: 1_000 } as const;
