import { type KV, silentLogger, watchBucket } from "@switchyard/bus";
import { z } from "zod";

/** One bucket a wait watches: its values are parsed by `schema` (invalid ones skipped). */
export interface Watched<T = unknown> {
  kv: KV;
  schema: z.ZodType<T>;
  /** A NATS subject pattern over keys: `*` one token, `>` the rest; default every key. */
  key?: string;
}

/** The current value of every matching key of each watched bucket, by the caller's names. */
export type Views<W extends Record<string, Watched>> = {
  [K in keyof W]: Map<string, W[K] extends Watched<infer T> ? T : never>;
};

/**
 * Await a condition over one or more KV buckets through watches (no polling): resolves with
 * their current values once `done(views)` holds.
 *
 * `done` is first asked once every watch's initial snapshot is complete (`ready`), then after
 * each later change: never on a partly delivered snapshot, where a key not yet delivered would
 * look absent (a "no such key" or "every key is X" condition would pass on stale data).
 * On timeout the error names `what`, whether the snapshots were complete, and `describe(views)`
 * (default: the keys seen).
 */
export function waitForBuckets<W extends Record<string, Watched>>(
  watched: W,
  done: (views: Views<W>) => boolean,
  opts: { timeoutMs?: number; what?: string; describe?: (views: Views<W>) => string } = {},
): Promise<Views<W>> {
  const names = Object.keys(watched) as (keyof W & string)[];
  const views = Object.fromEntries(names.map((n) => [n, new Map()])) as Views<W>;
  return new Promise((resolve, reject) => {
    let settled = false;
    let snapshots = 0;
    const check = () => {
      if (settled || snapshots < names.length || !done(views)) return;
      finish();
      resolve(views);
    };
    // Whole buckets are watched and keys are filtered here: watchBucket's `ready` marks the end
    // of the snapshot at the stream's last sequence, which a filtered watch never reaches when
    // that last message belongs to a key outside the filter.
    const watches = names.map((n) => {
      const { kv, schema, key = ">" } = watched[n];
      const view = views[n] as Map<string, unknown>;
      const w = watchBucket(
        kv,
        schema,
        (c) => {
          if (!keyMatches(key, c.key)) return;
          if (c.op === "put") view.set(c.key, c.value);
          else view.delete(c.key);
          check();
        },
        silentLogger,
      );
      void w.ready.then(() => {
        snapshots++;
        check();
      });
      return w;
    });
    const finish = () => {
      settled = true;
      clearTimeout(timer);
      for (const w of watches) w.stop();
    };
    const timer = setTimeout(() => {
      if (settled) return;
      finish();
      const snapshot = snapshots === names.length ? "complete" : "incomplete";
      const seen = opts.describe
        ? opts.describe(views)
        : `keys: ${JSON.stringify(names.flatMap((n) => [...views[n].keys()]))}`;
      reject(
        new Error(`timed out waiting for ${opts.what ?? "KV condition"} (snapshot ${snapshot}); ${seen}`),
      );
    }, opts.timeoutMs ?? 30_000);
  });
}

/**
 * `waitForBuckets` on one bucket whose values are not validated (T is whatever the caller's
 * predicate reads): resolves with the map of matching keys' values once `done(map)` holds.
 */
export async function waitForKey<T = unknown>(
  kv: KV,
  done: (entries: Map<string, T>) => boolean,
  opts: { key?: string; timeoutMs?: number; what?: string } = {},
): Promise<Map<string, T>> {
  const watched = { kv, schema: z.unknown() as z.ZodType<T>, key: opts.key };
  const views = await waitForBuckets({ only: watched }, (v) => done(v.only), opts);
  return views.only;
}

/** NATS subject matching of a KV key against a pattern: `*` matches one token, `>` one or more. */
export function keyMatches(pattern: string, key: string): boolean {
  const p = pattern.split(".");
  const k = key.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return k.length > i;
    if (i >= k.length || (p[i] !== "*" && p[i] !== k[i])) return false;
  }
  return p.length === k.length;
}
