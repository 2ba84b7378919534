// @pure: no I/O (tools/lint-boundaries checks it)
import {
  LOAD_SCHEMA_VERSION,
  type LoadReport,
  MAX_BATCH_BYTES,
  MAX_BATCH_REPORTS,
} from "@switchyard/contracts";

/** Room left in a batch for its envelope (`{"schema":2,"reports":[]}`) and the commas. */
const ENVELOPE_BYTES = 64;

/**
 * A tick's reports as `yard.load` payloads (LoadBatch JSON), in order, as they come: one message
 * per proxy per interval instead of one per service (10k services were 10k messages a second
 * into the autoscaler and the provisioner). A batch closes at `maxReports` reports or before
 * its JSON passes `maxBytes` (a service with many replicas makes a long report). Each report is
 * serialized once, and the payload is those strings joined: a tick of 10k reports is ~2 MB of
 * JSON. No reports, no batch: silence is a proxy that routes nothing. Sizes count UTF-16 units:
 * every field of a report is ASCII, so that is its bytes.
 */
export class BatchWriter {
  private parts: string[] = [];
  private bytes = ENVELOPE_BYTES;

  constructor(
    private readonly maxReports = MAX_BATCH_REPORTS,
    private readonly maxBytes = MAX_BATCH_BYTES,
  ) {}

  /** Take one report; returns the batch it closed (it did not fit there), else null. */
  add(r: LoadReport): string | null {
    const json = JSON.stringify(r);
    const size = json.length + 1;
    const full = this.parts.length >= this.maxReports || this.bytes + size > this.maxBytes;
    const closed = this.parts.length > 0 && full ? this.close() : null;
    this.parts.push(json);
    this.bytes += size;
    return closed;
  }

  /** The open batch, now (null when empty); the next report starts a new one. */
  close(): string | null {
    if (this.parts.length === 0) return null;
    const payload = `{"schema":${LOAD_SCHEMA_VERSION},"reports":[${this.parts.join(",")}]}`;
    this.parts = [];
    this.bytes = ENVELOPE_BYTES;
    return payload;
  }
}
