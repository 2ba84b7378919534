import type { KV } from "@nats-io/kv";
import type { z } from "zod";
import { decode } from "./kv.js";
import type { Logger } from "./logger.js";

export type WatchChange<T> =
  | { op: "put"; key: string; value: T; revision: number; initial: boolean }
  | { op: "del"; key: string; revision: number; initial: boolean };

export interface BucketWatch {
  /** Resolves once every value that existed when the watch started has been delivered. */
  ready: Promise<void>;
  /** The last bucket revision applied (0 before any). */
  revision(): number;
  stop(): void;
}

/**
 * Snapshot then updates, as one ordered stream of changes. The snapshot ends at the stream's
 * last sequence read before watching (the client's `isUpdate` flag is off by one, see
 * research/toolchain.md pitfall 13). Malformed values are logged and skipped, never thrown.
 * If the watch dies (server restart), it is restarted from the last applied revision + 1, so
 * a reader converges without a full reload.
 *
 * A watch can also stall without dying: its consumer (an R=1 ephemeral the client makes) lived
 * on a cluster node that was lost, and the client's own recovery (after missed heartbeats) is
 * slow or, while JetStream elects new leaders, never comes (test/nats-cluster.test.ts saw a
 * watch deliver nothing for 40 s). So a whole-bucket watch compares the stream's last sequence
 * with what it applied every STALL_CHECK_MS; behind at two checks in a row without progress,
 * it is restarted from the last applied revision + 1. An idle bucket costs one stream-info
 * request a check and never restarts.
 */
export const STALL_CHECK_MS = 1_000;

export function watchBucket<S extends z.ZodType>(
  kv: KV,
  schema: S,
  onChange: (c: WatchChange<z.infer<S>>) => void,
  logger: Logger,
  key = ">",
): BucketWatch {
  let lastRev = 0;
  let stopped = false;
  let stopIter: (() => void) | null = null;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => {
    markReady = r;
  });
  let isReady = false;
  const setReady = () => {
    if (!isReady) {
      isReady = true;
      markReady();
    }
  };

  async function run(): Promise<void> {
    while (!stopped) {
      try {
        const status = await kv.status();
        const endSeq = status.streamInfo.state.last_seq;
        const snapshotEmpty = status.streamInfo.state.messages === 0 || endSeq <= lastRev;
        const iter = await kv.watch({ key, ...(lastRev > 0 ? { resumeFromRevision: lastRev + 1 } : {}) });
        stopIter = () => iter.stop();
        if (snapshotEmpty) setReady();
        for await (const e of iter) {
          if (e.revision <= lastRev) continue;
          lastRev = e.revision;
          const initial = !isReady;
          if (e.operation === "PUT") {
            const v = decode(e.string(), schema);
            if (v.ok) onChange({ op: "put", key: e.key, value: v.value, revision: e.revision, initial });
            else logger.warn({ key: e.key, issues: v.error }, "skipping malformed KV value");
          } else {
            onChange({ op: "del", key: e.key, revision: e.revision, initial });
          }
          if (e.revision >= endSeq) setReady();
        }
      } catch (err) {
        if (stopped) return;
        logger.warn({ err: String(err) }, "KV watch failed; retrying");
      }
      if (!stopped) await new Promise((r) => setTimeout(r, 250));
    }
  }
  void run();
  // Only a whole-bucket watch can be compared with the stream's last sequence.
  let behindAt: number | null = null;
  let checking = false;
  const stall =
    key === ">"
      ? setInterval(() => {
          if (checking || !isReady) return;
          checking = true;
          kv.status()
            .then((st) => {
              const last = st.streamInfo.state.last_seq;
              if (last <= lastRev) behindAt = null;
              else if (behindAt !== lastRev) behindAt = lastRev;
              else {
                logger.warn(
                  { event: "bus.watch_stalled", revision: lastRev, last },
                  "KV watch stalled; restarting it",
                );
                behindAt = null;
                stopIter?.();
              }
            })
            .catch(() => {}) // the watch's own loop reports a broken connection
            .finally(() => {
              checking = false;
            });
        }, STALL_CHECK_MS)
      : null;
  stall?.unref();
  return {
    ready,
    revision: () => lastRev,
    stop() {
      stopped = true;
      if (stall) clearInterval(stall);
      stopIter?.();
    },
  };
}
