import {
  LOAD_SCHEMA_VERSION,
  LoadBatch,
  type LoadReport,
  MAX_BATCH_BYTES,
  MAX_BATCH_REPORTS,
  MAX_REPORT_REPLICAS,
} from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { BatchWriter } from "./load-batch.js";

/** Every payload a writer gives for `reports` (each closed batch, then the last), parsed. */
function batchReports(reports: LoadReport[], maxReports?: number, maxBytes?: number): LoadBatch[] {
  const w = new BatchWriter(maxReports, maxBytes);
  const out: string[] = [];
  for (const r of reports) {
    const closed = w.add(r);
    if (closed !== null) out.push(closed);
  }
  const last = w.close();
  if (last !== null) out.push(last);
  for (const p of out) expect(p.length).toBeLessThanOrEqual(maxBytes ?? MAX_BATCH_BYTES);
  return out.map((p) => JSON.parse(p) as LoadBatch);
}

const report = (i: number, replicas = 2): LoadReport => ({
  schema: LOAD_SCHEMA_VERSION,
  proxy_id: "host-1:42",
  service: `svc-${i}`,
  seq: 7,
  interval_ms: 1000,
  requests: i,
  in_flight: Object.fromEntries(Array.from({ length: replicas }, (_, r) => [String(r + 1), r])),
  held: 0,
  sent_at: "2026-01-01T00:00:00.000Z",
});

describe("BatchWriter", () => {
  it("sends nothing for no reports", () => {
    expect(batchReports([])).toEqual([]);
  });

  it("sends one report (an early demand report) as a batch of one", () => {
    expect(batchReports([report(1)])).toEqual([{ schema: LOAD_SCHEMA_VERSION, reports: [report(1)] }]);
  });

  it.each([1, MAX_BATCH_REPORTS, MAX_BATCH_REPORTS + 1, 10_000, 10_001])(
    "sends a tick of %i services as ceil(N / MAX_BATCH_REPORTS) valid batches, every report once in order",
    (n) => {
      const reports = Array.from({ length: n }, (_, i) => report(i));
      const batches = batchReports(reports);
      expect(batches).toHaveLength(Math.ceil(n / MAX_BATCH_REPORTS));
      for (const b of batches) {
        expect(LoadBatch.parse(JSON.parse(JSON.stringify(b)))).toEqual(b);
        expect(JSON.stringify(b).length).toBeLessThanOrEqual(MAX_BATCH_BYTES);
      }
      expect(batches.flatMap((b) => b.reports)).toEqual(reports);
    },
  );

  it("closes a batch by size before count when reports are long (many replicas)", () => {
    const reports = Array.from({ length: 100 }, (_, i) => report(i, MAX_REPORT_REPLICAS));
    const batches = batchReports(reports);
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) {
      expect(LoadBatch.safeParse(b).success).toBe(true);
      expect(JSON.stringify(b).length).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    }
    expect(batches.flatMap((b) => b.reports)).toEqual(reports);
  });

  it("honours a smaller count or byte cap", () => {
    const reports = Array.from({ length: 10 }, (_, i) => report(i));
    expect(batchReports(reports, 3).map((b) => b.reports.length)).toEqual([3, 3, 3, 1]);
    const one = JSON.stringify(report(0)).length;
    // room for two reports (plus the envelope) per batch, never three
    const twoEach = batchReports(reports, 100, 64 + 2 * (one + 1) + 1);
    expect(twoEach.map((b) => b.reports.length)).toEqual([2, 2, 2, 2, 2]);
  });
});
