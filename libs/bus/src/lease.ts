import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import { type KV, type KvEntry, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { Buckets, LEASE_SCHEMA_VERSION, LeaseRecord, leaseKey, YardError } from "@switchyard/contracts";
import { decode } from "./kv.js";
import type { Logger } from "./logger.js";
import { type WaitOptions, waitForStream } from "./streams.js";

/**
 * yard-leases, once the spec service has created it, read by direct get: a role's grant names
 * its own key in the direct get's subject (a stream message get carries the key in its body,
 * where no grant reaches, so it is not granted at all).
 */
export async function openLeaseBucket(nc: NatsConnection, opts?: WaitOptions): Promise<KV> {
  const log = {
    fields: { bucket: Buckets.leases },
    msg: "waiting for the spec service to create the bucket",
  };
  await waitForStream(await jetstreamManager(nc), `KV_${Buckets.leases}`, log, opts);
  return new Kvm(nc).open(Buckets.leases, { allow_direct: true });
}

/**
 * The lease of a single writer (yard-leases[<role>], LeaseRecord). NATS 2.9 has no per-key TTL
 * and no multi-key transaction, so:
 *
 * - Holding is "my write is the key's latest revision". The leader renews every `renewMs` with
 *   `update(key, me, myRevision)`: it fails the moment anyone else wrote the key.
 * - A standby watches the key and arms one timer, `ttl_ms` from when it *saw* the latest
 *   revision (its own monotonic clock; no clocks are compared). When it fires, the standby
 *   takes the key with `update(key, me, thatRevision)`: of several standbys, and against a
 *   leader's late renewal, exactly one write wins. A deleted key (a clean release) is taken at
 *   once. No polling: a standby does nothing but watch and wait for its timer.
 * - The leader counts its lease valid until `sentAt + ttl`, `sentAt` being when it *sent* its
 *   last successful renewal, which is before any standby saw it: its validity ends before any
 *   standby's timer can fire. `check()` (the fence) refuses every write past that instant, and a
 *   renewal that fails or runs late ends the term (`lost`) without waiting for anything else.
 *   A paused process (SIGSTOP, a long GC) keeps its clock running: resumed, its fence refuses
 *   at once. What is left, a write already in the socket when the pause began, is refused by
 *   the data buckets themselves: single writers write with the key's expected revision
 *   (FencedKv), so a write after the new leader's is refused by the server.
 */
/** Why a leader steps down when its own renewal did not land within the TTL. */
const LATE = "not renewed within the lease's TTL";

export interface LeaseOptions {
  /** The yard-leases bucket. */
  kv: KV;
  /** leaseKey(role). */
  key: string;
  ttlMs: number;
  renewMs: number;
  logger: Logger;
  /** Who this instance is (default `<host>:<pid>.<nonce>`). */
  holder?: string;
  /** A monotonic clock in ms (default performance.now). */
  now?: () => number;
}

export interface LeaseEvents {
  /** This instance now holds the lease: start acting. */
  elected(): void;
  /** It no longer does (taken, or not renewed in time): stop acting now. */
  lost(why: string): void;
}

export interface Lease {
  readonly holder: string;
  /** Whether this instance holds the lease now (and its validity has not run out). */
  held(): boolean;
  /** The fence: throws SY_ERR_NOT_LEADER unless held(). Call it right before each write. */
  check(): void;
  /** The KV revision of this instance's latest lease write (0 when it does not hold it). */
  revision(): number;
  /** Stop campaigning; a leader deletes its key (expected revision) so a standby takes over at once. */
  release(): Promise<void>;
}

type State =
  | { kind: "standby" }
  | { kind: "leader"; revision: number; validUntil: number }
  | { kind: "stopped" };

export function defaultHolder(): string {
  return `${hostname()}:${process.pid}.${Math.random().toString(36).slice(2, 6)}`;
}

/** Campaign for the lease: `on.elected` / `on.lost` tell each change, in order. */
export function campaign(o: LeaseOptions, on: LeaseEvents): Lease {
  const { kv, key, logger } = o;
  const now = o.now ?? (() => performance.now());
  const holder = o.holder ?? defaultHolder();
  const log = { lease: key, holder };
  let state: State = { kind: "standby" };
  /** The latest revision of the key this instance knows of (0: none, or deleted). */
  let seen = 0;
  let seenLive = false;
  let expiry: NodeJS.Timeout | undefined;
  let renewTimer: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let acquiring = false;
  let stopWatch: (() => void) | null = null;

  /** When this term began: renewals repeat it. */
  let acquiredAt = "";
  const value = () =>
    JSON.stringify({
      schema: LEASE_SCHEMA_VERSION,
      holder,
      ttl_ms: o.ttlMs,
      acquired_at: acquiredAt,
    } satisfies LeaseRecord);

  // A function, not a narrowed read: `release()` changes the state while a loop awaits.
  const stopped = () => state.kind === "stopped";

  function held(): boolean {
    return state.kind === "leader" && now() < state.validUntil;
  }

  function becomeLeader(revision: number, sentAt: number): void {
    clearTimeout(expiry);
    state = { kind: "leader", revision, validUntil: sentAt + o.ttlMs };
    seen = revision;
    seenLive = true;
    armDeadline();
    renewTimer = setInterval(renew, o.renewMs);
    logger.info({ ...log, revision, ttlMs: o.ttlMs, renewMs: o.renewMs }, "lease acquired: leading");
    on.elected();
  }

  function lose(why: string): void {
    if (state.kind !== "leader") return;
    clearInterval(renewTimer);
    clearTimeout(deadline);
    state = { kind: "standby" };
    logger.warn({ ...log, why }, "lease lost: stepping down");
    on.lost(why);
    // Only late (a stall, a slow round trip), not taken: the key's latest revision may still be
    // ours, and then nobody else leads. The same revision-checked write lets exactly one
    // candidate win, so try at once rather than a TTL later: a lone instance resumes after a
    // stall, and a standby that took the key meanwhile keeps it (our write is refused).
    armExpiry(why === LATE ? 0 : o.ttlMs);
  }

  /** The leader's own deadline: no renewal landed in time → it stops, whatever else happens. */
  function armDeadline(): void {
    clearTimeout(deadline);
    if (state.kind !== "leader") return;
    deadline = setTimeout(
      () => {
        if (state.kind === "leader" && now() >= state.validUntil) lose(LATE);
        else armDeadline();
      },
      Math.max(0, state.validUntil - now()),
    );
  }

  async function renew(): Promise<void> {
    if (state.kind !== "leader") return;
    // Late: the timer fired after the lease's end (a pause): a standby may hold it already.
    if (now() >= state.validUntil) return lose(LATE);
    const sentAt = now();
    const mine = state.revision;
    try {
      const revision = await kv.update(key, value(), mine);
      if (state.kind !== "leader" || state.revision !== mine) return;
      state.revision = revision;
      seen = revision;
      state.validUntil = sentAt + o.ttlMs;
      armDeadline();
    } catch (err) {
      if (state.kind !== "leader" || state.revision !== mine) return;
      if (!isWrongRevision(err)) {
        logger.warn({ ...log, err: String(err) }, "lease renewal failed; retrying");
        return;
      }
      // Our write may have landed with its answer lost (a cluster fail-over): then the key
      // still names us, and its latest revision is ours, written after sentAt.
      const e = await kv.get(key).catch(() => null);
      const rec = e?.operation === "PUT" ? decode(e.string(), LeaseRecord) : null;
      if (state.kind === "leader" && rec?.ok && rec.value.holder === holder && e) {
        state.revision = e.revision;
        seen = e.revision;
        state.validUntil = sentAt + o.ttlMs;
        armDeadline();
        return;
      }
      lose(rec?.ok ? `taken by ${rec.value.holder}` : "the lease key changed");
    }
  }

  function armExpiry(ms: number): void {
    clearTimeout(expiry);
    if (state.kind !== "standby") return;
    expiry = setTimeout(() => void acquire(), ms);
  }

  /** A revision of the key was seen (watch or get); `again`: one already seen, re-armed. */
  function observe(e: KvEntry, again = false): void {
    if (e.revision < seen || (e.revision === seen && !again)) return;
    seen = e.revision;
    const rec = e.operation === "PUT" ? decode(e.string(), LeaseRecord) : null;
    if (state.kind === "leader") {
      // Ours: a renewal whose answer is still on its way.
      if (rec?.ok && rec.value.holder === holder) return;
      // Someone else wrote our key: our next renewal would fail; stop now.
      lose(rec?.ok ? `taken by ${rec.value.holder}` : "the lease key changed");
      return;
    }
    if (state.kind !== "standby") return;
    seenLive = e.operation === "PUT";
    if (!seenLive) {
      logger.info({ ...log }, "lease released: taking it");
      armExpiry(0);
      return;
    }
    // A holder's own TTL, where readable (leader and standby agree on it); ours otherwise.
    armExpiry(rec?.ok ? rec.value.ttl_ms : o.ttlMs);
  }

  async function acquire(): Promise<void> {
    if (state.kind !== "standby" || acquiring) return;
    acquiring = true;
    const sentAt = now();
    acquiredAt = new Date().toISOString();
    const expected = seen;
    try {
      const revision =
        seenLive && expected > 0 ? await kv.update(key, value(), expected) : await kv.create(key, value());
      if (state.kind === "standby") becomeLeader(revision, sentAt);
    } catch (err) {
      if (state.kind !== "standby") return;
      if (isWrongRevision(err)) {
        // Someone renewed or took it since: read the latest and wait its TTL.
        const e = await kv.get(key).catch(() => null);
        if (e && e.revision >= seen) observe(e, true);
        else armExpiry(o.ttlMs);
      } else {
        logger.warn({ ...log, err: String(err) }, "taking the lease failed; retrying");
        armExpiry(o.renewMs);
      }
    } finally {
      acquiring = false;
    }
  }

  async function watch(): Promise<void> {
    while (!stopped()) {
      try {
        const iter = await kv.watch({ key, ...(seen > 0 ? { resumeFromRevision: seen + 1 } : {}) });
        stopWatch = () => iter.stop();
        if (stopped()) iter.stop();
        for await (const e of iter) observe(e);
      } catch (err) {
        if (stopped()) return;
        logger.warn({ ...log, err: String(err) }, "lease watch failed; retrying");
      }
      // The expiry timer runs meanwhile: the watch only makes takeovers sooner and fewer.
      if (!stopped()) await new Promise((r) => setTimeout(r, 250));
    }
  }

  // Start: read the key once (free → take it now; held → wait for its TTL), then watch it.
  void (async () => {
    let first: KvEntry | null = null;
    try {
      first = await kv.get(key);
    } catch (err) {
      logger.warn({ ...log, err: String(err) }, "reading the lease failed; retrying");
    }
    if (stopped()) return;
    if (first?.operation === "PUT") {
      observe(first, true);
      const rec = decode(first.string(), LeaseRecord);
      logger.info({ ...log, leader: rec.ok ? rec.value.holder : "?" }, "lease held by another: standing by");
    } else {
      if (first) seen = first.revision;
      void acquire();
    }
    void watch();
  })();

  return {
    holder,
    held,
    check() {
      if (held()) return;
      throw new YardError(
        "SY_ERR_NOT_LEADER",
        `this ${key} instance does not hold its lease (a standby took over, or its renewal ran late); nothing was written: try again`,
      );
    },
    revision: () => (state.kind === "leader" ? state.revision : 0),
    async release() {
      const was = state;
      state = { kind: "stopped" };
      clearTimeout(expiry);
      clearInterval(renewTimer);
      clearTimeout(deadline);
      stopWatch?.();
      if (was.kind !== "leader") return;
      try {
        await kv.delete(key, { previousSeq: was.revision });
        logger.info({ ...log }, "lease released");
      } catch (err) {
        // Taken already, or NATS is away: the standby takes it at its TTL.
        logger.warn({ ...log, err: String(err) }, "releasing the lease failed");
      }
    },
  };
}

/** The server refused a write whose expected revision was not the key's latest. */
export function isWrongRevision(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/**
 * A service's campaign for its role's lease: opens yard-leases (waiting until `signal` for the
 * spec service to create it) and campaigns with the lease env (YARD_LEASE_TTL_MS, _RENEW_MS).
 */
export async function campaignFor(
  nc: NatsConnection,
  role: string,
  cfg: { YARD_LEASE_TTL_MS: number; YARD_LEASE_RENEW_MS: number },
  logger: Logger,
  on: LeaseEvents,
  signal?: AbortSignal,
): Promise<Lease> {
  const kv = await openLeaseBucket(nc, { logger, signal });
  return campaign(
    { kv, key: leaseKey(role), ttlMs: cfg.YARD_LEASE_TTL_MS, renewMs: cfg.YARD_LEASE_RENEW_MS, logger },
    on,
  );
}
