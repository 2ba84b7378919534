import type { ScaleRecord } from "@switchyard/contracts";
import { scaleRecord } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import { scaleTable, scaleWhy } from "./scale-view.js";

const NOW = Date.parse("2026-01-01T00:01:00.000Z");
const rec = (o: Partial<ScaleRecord>) =>
  scaleRecord({ service: "llm", revision: 2, target_qps_per_replica: 2, qps: 5, ...o });

describe("yard status: the autoscaler's target and why", () => {
  it.each<{ name: string; r: ScaleRecord; want: string }>([
    {
      name: "no target QPS",
      r: rec({ reason: "min_replicas", target_qps_per_replica: null, wanted_replicas: 1 }),
      want: "min_replicas: no target_qps_per_replica",
    },
    {
      name: "little load",
      r: rec({ reason: "min_replicas", wanted_replicas: 1 }),
      want: "min_replicas: the load asks for 1 (2 QPS per replica)",
    },
    {
      name: "qps",
      r: rec({ reason: "qps", wanted_replicas: 3 }),
      want: "the load asks for 3 (2 QPS per replica)",
    },
    {
      name: "max",
      r: rec({ reason: "max_replicas", wanted_replicas: 3 }),
      want: "max_replicas: the load asks for 3 (2 QPS per replica)",
    },
    {
      name: "a delay running, since when",
      r: rec({ reason: "upscale_delay", wanted_replicas: 4, pending_since: "2026-01-01T00:00:18.000Z" }),
      want: "the load asks for 4 since 42s ago; held for upscale_delay_seconds",
    },
    {
      name: "per accelerator",
      r: rec({ reason: "qps", wanted_replicas: 2, target_qps_per_replica: { A100: 4, L4: 1 } }),
      want: "the load asks for 2 (QPS per replica by accelerator: A100 4, L4 1)",
    },
    {
      name: "from zero",
      r: rec({ reason: "from_zero", wanted_replicas: 1 }),
      want: "demand at zero replicas: scaled up at once, without the upscale delay",
    },
    {
      name: "spec changed",
      r: rec({ reason: "spec_changed", wanted_replicas: 1 }),
      want: "revision 2: recomputed at once, without the delays",
    },
    {
      name: "paused after a restart",
      r: rec({ reason: "paused", wanted_replicas: null }),
      want: "paused: waiting for a whole window of load reports (never scales down on missing data)",
    },
    { name: "a record from before the reasons", r: scaleRecord({ service: "llm" }), want: "-" },
  ])("$name", ({ r, want }) => {
    expect(scaleWhy(r, NOW)).toBe(want);
  });

  it("prints one row per service, QPS with two decimals", () => {
    const lines = scaleTable(
      [
        rec({ service: "web", reason: "min_replicas", qps: null, target_qps_per_replica: null }),
        rec({ target_replicas: 3, reason: "qps", wanted_replicas: 3, qps: 5.5 }),
      ],
      NOW,
    ).split("\n");
    expect(lines[0]).toMatch(/^SERVICE\s+TARGET\s+QPS\s+WHY$/);
    expect(lines[1]).toMatch(/^llm\s+3\s+5\.50\s+the load asks for 3 \(2 QPS per replica\)$/);
    expect(lines[2]).toMatch(/^web\s+1\s+-\s+min_replicas: no target_qps_per_replica$/);
  });
});
