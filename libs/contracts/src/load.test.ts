import { describe, expect, it } from "vitest";
import {
  LOAD_SCHEMA_VERSION,
  LoadBatch,
  LoadReport,
  MAX_BATCH_BYTES,
  MAX_BATCH_REPORTS,
  MAX_REPORT_REPLICAS,
  nextReportMs,
} from "./load.js";

const ok = {
  schema: LOAD_SCHEMA_VERSION,
  proxy_id: "host-1:4242/w2",
  service: "llm",
  seq: 1,
  interval_ms: 1000,
  requests: 12,
  in_flight: { "1": 3, "2": 0 },
  held: 0,
  sent_at: "2026-01-01T00:00:00.000Z",
};

describe("LoadReport", () => {
  it("takes a proxy's report", () => {
    expect(LoadReport.parse(ok)).toEqual(ok);
  });

  it.each([
    { name: "a record of another kind (unknown key)", v: { ...ok, url: "http://x" } },
    { name: "a service name that is no DNS label", v: { ...ok, service: "a.b" } },
    { name: "a wildcard in the proxy id", v: { ...ok, proxy_id: "p*" } },
    { name: "seq 0", v: { ...ok, seq: 0 } },
    { name: "a negative count", v: { ...ok, requests: -1 } },
    { name: "a fractional count", v: { ...ok, requests: 1.5 } },
    { name: "an interval under 50 ms", v: { ...ok, interval_ms: 10 } },
    { name: "a next report promised in under 50 ms", v: { ...ok, next_ms: 10 } },
    { name: "a next report promised in over 10 minutes", v: { ...ok, next_ms: 600_001 } },
    { name: "a replica id that is not a number", v: { ...ok, in_flight: { __proto__x: 1 } } },
    {
      name: `more than ${MAX_REPORT_REPLICAS} replicas`,
      v: {
        ...ok,
        in_flight: Object.fromEntries(
          Array.from({ length: MAX_REPORT_REPLICAS + 1 }, (_, i) => [String(i + 1), 1]),
        ),
      },
    },
  ])("refuses $name", ({ v }) => {
    expect(LoadReport.safeParse(v).success).toBe(false);
  });

  it("next_ms: a quiet proxy's heartbeat; absent, or under the interval, a reader waits one interval", () => {
    expect(LoadReport.parse({ ...ok, next_ms: 10_000 }).next_ms).toBe(10_000);
    expect(nextReportMs({ interval_ms: 1000, next_ms: 10_000 })).toBe(10_000);
    expect(nextReportMs({ interval_ms: 1000 })).toBe(1000);
    expect(nextReportMs({ interval_ms: 1000, next_ms: 50 })).toBe(1000);
  });

  it("drops a __proto__ key from JSON (never a prototype): the in-flight sum is the real one", () => {
    const v = JSON.parse(`{"__proto__": {"polluted": 7}, "1": 2}`);
    const r = LoadReport.parse({ ...ok, in_flight: v });
    expect(Object.entries(r.in_flight)).toEqual([["1", 2]]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("LoadBatch", () => {
  it("takes a proxy's batch", () => {
    const b = { schema: LOAD_SCHEMA_VERSION, reports: [ok, { ...ok, service: "other", seq: 4 }] };
    expect(LoadBatch.parse(b)).toEqual(b);
  });

  it.each([
    { name: "an empty batch", v: { schema: LOAD_SCHEMA_VERSION, reports: [] } },
    {
      name: `more than ${MAX_BATCH_REPORTS} reports`,
      v: { schema: LOAD_SCHEMA_VERSION, reports: Array.from({ length: MAX_BATCH_REPORTS + 1 }, () => ok) },
    },
    { name: "one bad report in it", v: { schema: LOAD_SCHEMA_VERSION, reports: [ok, { ...ok, seq: 0 }] } },
    { name: "a bare report (the old shape)", v: ok },
    { name: "an unknown key", v: { schema: LOAD_SCHEMA_VERSION, reports: [ok], proxy: "p" } },
    { name: "another schema version", v: { schema: LOAD_SCHEMA_VERSION - 1, reports: [ok] } },
  ])("refuses $name", ({ v }) => {
    expect(LoadBatch.safeParse(v).success).toBe(false);
  });

  it(`holds a worst-case report well under ${MAX_BATCH_BYTES} bytes`, () => {
    const worst = {
      ...ok,
      proxy_id: "p".repeat(128),
      service: "s".repeat(63),
      seq: Number.MAX_SAFE_INTEGER,
      requests: 1_000_000_000,
      held: 1_000_000_000,
      in_flight: Object.fromEntries(
        Array.from({ length: MAX_REPORT_REPLICAS }, (_, i) => [String(9_999_998_976 + i), 1e9]),
      ),
    };
    expect(LoadReport.safeParse(worst).success).toBe(true);
    expect(JSON.stringify(worst).length).toBeLessThan(MAX_BATCH_BYTES / 16);
  });
});
