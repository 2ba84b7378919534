import type { KV } from "@nats-io/kv";
import { isWrongRevision } from "./lease.js";
import type { Logger } from "./logger.js";

/** The fence of a single writer: throws (SY_ERR_NOT_LEADER) unless it holds its lease now. */
export interface Fence {
  check(): void;
}

/** No standby: every write goes ahead (tests that build one app alone). */
export const NO_FENCE: Fence = { check() {} };

/** A write refused by the server: the key changed since this writer last wrote or read it. */
export class WriteConflict extends Error {
  constructor(
    readonly key: string,
    readonly expected: number,
  ) {
    super(`${key} changed since revision ${expected} (another writer?); re-read it`);
    this.name = "WriteConflict";
  }
}

/**
 * A single writer's bucket, fenced twice: each write first asks the lease (`fence.check()`),
 * then carries the key's expected revision (the last this writer wrote or read: `seen`), so the
 * server refuses it if anyone wrote the key since, a new leader included. NATS 2.9 has no
 * multi-key transaction tying a write to the lease; the per-key revision is what closes the
 * gap between the fence's check and the write reaching the server. A refused write updates
 * the revision it knows and throws WriteConflict: the caller decides again from fresh data.
 */
export class FencedKv {
  private readonly revs = new Map<string, number>();
  /** Per key, the tail of this writer's writes: its own writes to a key go one at a time. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    readonly kv: KV,
    private readonly fence: Fence,
    private readonly logger: Logger,
  ) {}

  /** The key's revision as read (0: absent or deleted); a key never seen is read before its first write. */
  seen(key: string, revision: number): void {
    this.revs.set(key, revision);
  }

  /**
   * This writer's own writes to one key run in call order, one at a time: two at once would
   * both carry the same expected revision and the second would be refused as if another
   * writer had come (concurrent applies of one service did that to its route).
   */
  private serial<T>(key: string, write: () => Promise<T>): Promise<T> {
    const next = (this.queues.get(key) ?? Promise.resolve()).then(write, write);
    const tail = next.catch(() => {});
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return next;
  }

  put(key: string, value: string): Promise<number> {
    return this.serial(key, () => this.putNow(key, value));
  }

  delete(key: string): Promise<void> {
    return this.serial(key, () => this.deleteNow(key));
  }

  private async putNow(key: string, value: string): Promise<number> {
    const expected = this.revs.get(key) ?? (await this.current(key));
    // Right before the write, nothing awaited between: a pause after it is the revision's to catch.
    this.fence.check();
    try {
      const rev =
        expected > 0 ? await this.kv.update(key, value, expected) : await this.kv.create(key, value);
      this.revs.set(key, rev);
      return rev;
    } catch (err) {
      throw await this.refused(key, expected, err);
    }
  }

  private async deleteNow(key: string): Promise<void> {
    const expected = this.revs.get(key) ?? (await this.current(key));
    if (expected === 0) return;
    this.fence.check();
    try {
      await this.kv.delete(key, { previousSeq: expected });
      this.revs.set(key, 0);
    } catch (err) {
      throw await this.refused(key, expected, err);
    }
  }

  /** A key this writer never read: its revision now (0 when absent or deleted). */
  private async current(key: string): Promise<number> {
    const e = await this.kv.get(key);
    const rev = e?.operation === "PUT" ? e.revision : 0;
    this.revs.set(key, rev);
    return rev;
  }

  private async refused(key: string, expected: number, err: unknown): Promise<unknown> {
    // `create` over an existing key says "wrong last sequence" too.
    if (!isWrongRevision(err) && !/wrong last sequence|key exists/i.test(String(err))) return err;
    const e = await this.kv.get(key).catch(() => null);
    this.revs.set(key, e?.operation === "PUT" ? e.revision : 0);
    this.logger.warn(
      { key, expected, now: e?.revision ?? 0 },
      "write refused: the key changed under this writer",
    );
    return new WriteConflict(key, expected);
  }
}
