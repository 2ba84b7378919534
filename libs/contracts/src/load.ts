// @pure: no I/O (tools/lint-boundaries checks it)
import { z } from "zod";
import { ServiceName } from "./names.js";

// 2: reports travel in batches (LoadBatch on `Subjects.load`), no longer one message each on
// `yard.metrics.<service>`. 3: a quiet service is reported only every `next_ms` (a heartbeat),
// not every interval.
export const LOAD_SCHEMA_VERSION = 3;

/** At most this many replicas in one report's `in_flight` (a service is capped far below it). */
export const MAX_REPORT_REPLICAS = 1024;

/**
 * A proxy's load report for one service, inside a `LoadBatch` on `Subjects.load` (core NATS, no
 * reply): what the autoscaler (services/autoscaler) sums into the service's QPS. A lost report loses
 * only its count; the autoscaler notices the gap in `seq` and holds scale-downs until it has a
 * full window of reports again.
 *
 * - Every proxy sends one report per service it routes every `interval_ms` while the service is
 *   busy (requests, held or in flight), when it becomes quiet, and for the intervals just after
 *   any change to its routes (a drain waits for a report made after the change). A quiet service
 *   is reported once every `next_ms` (the proxy's heartbeat): at fleet scale nearly every
 *   service is quiet, and 32 proxies × 10k services each second was 320k reports a second for
 *   each reader to parse. Silence longer than a report's `next_ms` means "no data", never "no
 *   load". A proxy may send one early (a request was just held at zero replicas), with the next
 *   `seq`.
 * - `requests` counts the requests received since the proxy's previous report for the service,
 *   each once, before retries (SkyServe's load balancer records one timestamp per request).
 * - `seq` counts the proxy's reports for the service: 1 for its first (a proxy that starts
 *   has no earlier data to miss), then +1 each.
 * - `held`: requests waiting now because the service had no ready replica (scale-from-zero).
 *
 * Strict: a record of another kind aimed at the subject is not a report.
 */
export const LoadReport = z.strictObject({
  schema: z.literal(LOAD_SCHEMA_VERSION),
  /** Stable for the proxy process's life, e.g. `<host>:<pid>` (plus the worker of a cluster). */
  proxy_id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._:@/-]+$/, "letters, digits and . _ : @ / - only"),
  service: ServiceName,
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  interval_ms: z.number().int().min(50).max(600_000),
  /**
   * The longest until this proxy's next report for the service: `interval_ms` while it is busy,
   * the heartbeat once it is quiet (nothing in flight or held, no request since the last
   * report). Absent: `interval_ms`. A reader calls the proxy silent only after missing several.
   */
  next_ms: z.number().int().min(50).max(600_000).optional(),
  requests: z.number().int().nonnegative().max(1_000_000_000),
  /** Requests being forwarded now, per replica id. */
  in_flight: z
    .record(z.string().regex(/^[1-9][0-9]{0,9}$/, "a replica id"), z.number().int().nonnegative().max(1e9))
    .refine((m) => Object.keys(m).length <= MAX_REPORT_REPLICAS, {
      message: `at most ${MAX_REPORT_REPLICAS} replicas`,
    }),
  held: z.number().int().nonnegative().max(1_000_000_000),
  sent_at: z.string().max(64),
});
export type LoadReport = z.infer<typeof LoadReport>;

/**
 * At most this many reports in one `LoadBatch`. A proxy routing 10k services sends 10 batches a
 * tick instead of 10k messages. A typical report (a few replicas) is ~200 bytes: 1000 of them
 * ~200 KB. The worst case by count alone is not bounded by it (a report with MAX_REPORT_REPLICAS
 * replicas, each `"1234567890":1000000000,` = 24 bytes, plus a 128-char proxy id: ~25 KB; 1000
 * of those would be ~25 MB), so the proxy also closes a batch at MAX_BATCH_BYTES.
 */
export const MAX_BATCH_REPORTS = 1000;

/**
 * A proxy closes a batch before its JSON passes this many bytes: half of NATS's default 1 MiB
 * max_payload, so the envelope and headers never push it over. One worst-case report (~25 KB)
 * always fits, so every batch holds at least one report.
 */
export const MAX_BATCH_BYTES = 512 * 1024;

/**
 * The proxies' load reports, on `Subjects.load` (core NATS, no reply): one message per proxy per
 * interval (more when its reports pass MAX_BATCH_REPORTS or MAX_BATCH_BYTES), plus a batch of
 * one for an early `demand` report. Each report keeps its own meaning above (its own `seq` per
 * service); a reader handles them in order, as if each had come alone. A lost batch is a gap in
 * the `seq` of each report it held.
 *
 * Strict: a malformed batch (or one bad report in it) is dropped whole: the reader cannot tell
 * which of its reports to trust.
 */
export const LoadBatch = z.strictObject({
  schema: z.literal(LOAD_SCHEMA_VERSION),
  reports: z.array(LoadReport).min(1).max(MAX_BATCH_REPORTS),
});
export type LoadBatch = z.infer<typeof LoadBatch>;

/** The longest a reader should wait for this proxy's next report on the service (`next_ms`). */
export function nextReportMs(r: Pick<LoadReport, "interval_ms" | "next_ms">): number {
  return Math.max(r.next_ms ?? r.interval_ms, r.interval_ms);
}
