// @pure: no I/O (tools/lint-boundaries checks it)
import {
  LOAD_SCHEMA_VERSION,
  type LoadBatch,
  type LoadReport,
  MAX_BATCH_BYTES,
  MAX_BATCH_REPORTS,
} from "@switchyard/contracts";

/** Room left in a batch for its envelope (`{"schema":2,"reports":[]}`) and the commas. */
const ENVELOPE_BYTES = 64;

/**
 * A tick's reports as LoadBatches, in order: one message per proxy per interval instead of one
 * per service (10k services were 10k messages a second into the autoscaler and the provisioner).
 * A batch closes at `maxReports` reports or before its JSON passes `maxBytes` (a service with
 * many replicas makes a long report). No reports, no batch: silence is a proxy that routes
 * nothing. Sizes count UTF-16 units: every field of a report is ASCII, so that is its bytes.
 */
export function batchReports(
  reports: readonly LoadReport[],
  maxReports = MAX_BATCH_REPORTS,
  maxBytes = MAX_BATCH_BYTES,
): LoadBatch[] {
  const out: LoadBatch[] = [];
  let cur: LoadReport[] = [];
  let bytes = ENVELOPE_BYTES;
  for (const r of reports) {
    const size = JSON.stringify(r).length + 1;
    if (cur.length > 0 && (cur.length >= maxReports || bytes + size > maxBytes)) {
      out.push({ schema: LOAD_SCHEMA_VERSION, reports: cur });
      cur = [];
      bytes = ENVELOPE_BYTES;
    }
    cur.push(r);
    bytes += size;
  }
  if (cur.length > 0) out.push({ schema: LOAD_SCHEMA_VERSION, reports: cur });
  return out;
}
