import type { ScaleReason } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { type DecisionInput, decide, type Policy, type ScaleState } from "./decide.js";
import type { ReplicaView } from "./instance-aware.js";
import type { Evidence } from "./load-book.js";

/** SkyServe's defaults (300 s up, 1200 s down), min 1, max 5, 2 QPS per replica. */
function policy(o: Partial<Policy> = {}): Policy {
  return {
    min_replicas: 1,
    max_replicas: 5,
    target_qps_per_replica: 2,
    num_overprovision: 0,
    upscale_delay_seconds: 300,
    downscale_delay_seconds: 1200,
    ...o,
  };
}

const S = 1000;

function input(
  p: Policy,
  qps: number,
  o: Partial<DecisionInput> & { evidence?: Evidence; held?: number } = {},
) {
  return {
    revision: o.revision ?? 1,
    policy: p,
    load: { qps, held: o.held ?? 0, evidence: o.evidence ?? "full" },
    replicas: o.replicas ?? [],
  };
}

const state = (base: number, o: Partial<ScaleState> = {}): ScaleState => ({
  base,
  revision: 1,
  pending: null,
  decidedAt: 0,
  ...o,
});

/**
 * Decide once a second from t = 0 to `until` s with the QPS `load(t)` gives, starting from a
 * target of `start`; returns every change of the final target as [t, target, reason].
 */
function run(
  p: Policy,
  start: number,
  load: (t: number) => number,
  until: number,
): [number, number, ScaleReason][] {
  let prev: ScaleState | null = state(start);
  let target = start + p.num_overprovision;
  const changes: [number, number, ScaleReason][] = [];
  for (let t = 0; t <= until; t++) {
    const d = decide(prev, input(p, load(t)), t * S);
    if (d.target !== target) changes.push([t, d.target, d.reason]);
    target = d.target;
    prev = d.state;
  }
  return changes;
}

describe("decide: SkyServe's scenarios (request-rate autoscaler with hysteresis)", () => {
  it.each<{
    name: string;
    p: Policy;
    start: number;
    load: (t: number) => number;
    until: number;
    want: unknown;
  }>([
    {
      name: "steady: 3 QPS at 2 per replica stays at 2",
      p: policy(),
      start: 2,
      load: () => 3,
      until: 3000,
      want: [],
    },
    {
      name: "step up: 7 QPS asks for 4; applied after upscale_delay_seconds (300 s)",
      p: policy(),
      start: 1,
      load: () => 7,
      until: 1000,
      want: [[300, 4, "qps"]],
    },
    {
      name: "step down: no load; back to min_replicas after downscale_delay_seconds (1200 s)",
      p: policy(),
      start: 4,
      load: () => 0,
      until: 3000,
      want: [[1200, 1, "min_replicas"]],
    },
    {
      name: "flapping above the target within the upscale delay: never scales",
      p: policy(),
      start: 2,
      // 7 QPS (asks 4) for 200 s, then 3 QPS (asks 2, equal: resets) for 100 s, again and again.
      load: (t) => (t % 300 < 200 ? 7 : 3),
      until: 3000,
      want: [],
    },
    {
      name: "flapping up and down across the target: each swing resets the other's delay",
      p: policy({ upscale_delay_seconds: 120, downscale_delay_seconds: 120 }),
      start: 2,
      load: (t) => (t % 200 < 100 ? 9 : 0),
      until: 3000,
      want: [],
    },
    {
      name: "a load that keeps rising keeps its delay running; the target is the last ask",
      p: policy(),
      start: 1,
      load: (t) => (t < 100 ? 5 : 8),
      until: 1000,
      want: [[300, 4, "qps"]],
    },
    {
      name: "more than max_replicas asks: max_replicas (after the delay)",
      p: policy(),
      start: 1,
      load: () => 100,
      until: 400,
      want: [[300, 5, "max_replicas"]],
    },
    {
      name: "delays of 0: every change at once",
      p: policy({ upscale_delay_seconds: 0, downscale_delay_seconds: 0 }),
      start: 1,
      load: (t) => (t < 10 ? 0 : t < 20 ? 7 : 2),
      until: 30,
      want: [
        [10, 4, "qps"],
        [20, 1, "min_replicas"],
      ],
    },
    {
      name: "overprovision: num_overprovision on top of the QPS target (and of max_replicas)",
      p: policy({ num_overprovision: 2, upscale_delay_seconds: 0 }),
      start: 1,
      load: (t) => (t < 10 ? 3 : 100),
      until: 20,
      want: [
        [0, 4, "qps"],
        [10, 7, "max_replicas"],
      ],
    },
    {
      name: "from zero: the first request scales 0 → 1 at once, whatever the upscale delay",
      p: policy({ min_replicas: 0 }),
      start: 0,
      load: (t) => (t < 5 ? 0 : 0.05),
      until: 100,
      want: [[5, 1, "from_zero"]],
    },
    {
      name: "to zero: min_replicas 0 and silence for downscale_delay_seconds",
      p: policy({ min_replicas: 0, downscale_delay_seconds: 60 }),
      start: 2,
      load: () => 0,
      until: 100,
      want: [[60, 0, "min_replicas"]],
    },
    {
      name: "no target_qps_per_replica: min_replicas, whatever the load",
      p: policy({ target_qps_per_replica: null, min_replicas: 2 }),
      start: 4,
      load: () => 100,
      until: 100,
      want: [[0, 2, "min_replicas"]],
    },
  ])("$name", ({ p, start, load, until, want }) => {
    expect(run(p, start, load, until)).toEqual(want);
  });

  it("says why while a delay runs, and since when", () => {
    const p = policy();
    const first = decide(state(1), input(p, 7), 10 * S);
    expect(first).toMatchObject({ target: 1, wanted: 4, reason: "upscale_delay" });
    expect(first.state.pending).toEqual({ up: true, since: 10 * S });
    const later = decide(first.state, input(p, 7), 200 * S);
    expect(later.state.pending).toEqual({ up: true, since: 10 * S });
    const down = decide(state(4), input(p, 1), 5 * S);
    expect(down).toMatchObject({ target: 4, wanted: 1, reason: "downscale_delay" });
  });

  it("the first decision for a service starts at min_replicas (no earlier state)", () => {
    expect(decide(null, input(policy({ min_replicas: 2 }), 0), 0)).toMatchObject({
      target: 2,
      reason: "min_replicas",
    });
    expect(decide(null, input(policy({ min_replicas: 2 }), 9), 0)).toMatchObject({
      target: 2,
      wanted: 5,
      reason: "upscale_delay",
    });
  });
});

describe("decide: a spec update is recomputed without hysteresis (SkyServe update_version)", () => {
  it.each<{ name: string; prev: ScaleState; p: Policy; qps: number; evidence?: Evidence; want: unknown }>([
    {
      name: "more load than the old target: up at once",
      prev: state(1),
      p: policy(),
      qps: 7,
      want: { target: 4, reason: "spec_changed" },
    },
    {
      name: "less load: down at once",
      prev: state(4, { pending: { up: false, since: 0 } }),
      p: policy(),
      qps: 0,
      want: { target: 1, reason: "spec_changed", state: { pending: null, revision: 2 } },
    },
    {
      name: "a new max_replicas re-clips the target",
      prev: state(5),
      p: policy({ max_replicas: 3 }),
      qps: 100,
      want: { target: 3, reason: "spec_changed" },
    },
    {
      name: "a new target QPS applies at once",
      prev: state(2),
      p: policy({ target_qps_per_replica: 1 }),
      qps: 3,
      want: { target: 3, reason: "spec_changed" },
    },
    {
      name: "but never lowered on a partial window",
      prev: state(4),
      p: policy(),
      qps: 0,
      evidence: "partial",
      want: { target: 4, reason: "spec_changed" },
    },
    {
      name: "and not decided before any load is known (paused, the old revision kept)",
      prev: state(4),
      p: policy(),
      qps: 0,
      evidence: "none",
      want: { target: 4, reason: "paused", state: { revision: 1 } },
    },
  ])("$name", ({ prev, p, qps, evidence, want }) => {
    expect(decide(prev, input(p, qps, { revision: 2, evidence }), 50 * S)).toMatchObject(want as object);
  });
});

describe("decide: missing data never scales down", () => {
  it.each<{
    name: string;
    prev: ScaleState;
    p: Policy;
    qps: number;
    held?: number;
    evidence: Evidence;
    want: unknown;
  }>([
    {
      name: "warming up (none): the target stays",
      prev: state(3),
      p: policy({ downscale_delay_seconds: 0 }),
      qps: 0,
      evidence: "none",
      want: { target: 3, wanted: null, reason: "paused" },
    },
    {
      name: "warming up: no upward move either",
      prev: state(1),
      p: policy({ upscale_delay_seconds: 0 }),
      qps: 9,
      evidence: "none",
      want: { target: 1, reason: "paused" },
    },
    {
      name: "warming up, but requests are held at zero: 0 → 1 at once",
      prev: state(0),
      p: policy({ min_replicas: 0 }),
      qps: 0,
      held: 2,
      evidence: "none",
      want: { target: 1, reason: "from_zero" },
    },
    {
      name: "partial window: a lower ask is held (and its delay does not run)",
      prev: state(3, { pending: { up: false, since: 0 } }),
      p: policy({ downscale_delay_seconds: 0 }),
      qps: 0,
      evidence: "partial",
      want: { target: 3, wanted: 1, reason: "paused", state: { pending: null } },
    },
    {
      name: "partial window: a higher ask goes ahead",
      prev: state(1),
      p: policy({ upscale_delay_seconds: 0 }),
      qps: 9,
      evidence: "partial",
      want: { target: 5, reason: "qps" },
    },
    {
      name: "held requests at a target of zero ask for one even with no QPS yet",
      prev: state(0),
      p: policy({ min_replicas: 0 }),
      qps: 0,
      held: 1,
      evidence: "partial",
      want: { target: 1, reason: "from_zero" },
    },
  ])("$name", ({ prev, p, qps, held, evidence, want }) => {
    expect(decide(prev, input(p, qps, { evidence, held }), 50 * S)).toMatchObject(want as object);
  });
});

describe("decide: instance-aware targets per accelerator (SkyServe's InstanceAwareRequestRateAutoscaler)", () => {
  const targets = { A100: 4, "L4:1": 1 };
  const r = (phase: ReplicaView["phase"], accelerator: string | null): ReplicaView => ({
    phase,
    accelerator,
  });
  const both = [r("READY", "A100"), r("READY", "L4")];
  const now = policy({
    target_qps_per_replica: targets,
    upscale_delay_seconds: 0,
    downscale_delay_seconds: 0,
  });

  it.each<{ name: string; qps: number; replicas: ReplicaView[]; start?: number; want: number }>([
    // Capacity = 4 (A100) + 1 (L4, matched by its base name) = 5.
    {
      name: "above capacity: + ceil(excess / the largest target)",
      qps: 7,
      replicas: both,
      start: 2,
      want: 3,
    },
    { name: "exactly at capacity: the replicas there are", qps: 5, replicas: both, start: 3, want: 2 },
    {
      name: "below capacity: the fewest READY, largest first, summing past the QPS",
      qps: 3,
      replicas: both,
      start: 2,
      want: 1,
    },
    { name: "4.5 QPS needs the A100 and the L4", qps: 4.5, replicas: both, start: 2, want: 2 },
    {
      name: "STARTING and PROVISIONING count as capacity, failed ones do not",
      qps: 10,
      replicas: [r("READY", "A100"), r("STARTING", "A100"), r("FAILED", "A100"), r("PROVISIONING", "L4")],
      start: 3,
      want: 4,
    },
    {
      name: "an accelerator not in the map takes the smallest target (1)",
      qps: 2.5,
      replicas: [r("READY", "T4"), r("READY", null)],
      start: 2,
      want: 3,
    },
    { name: "no replica and no load: min_replicas", qps: 0, replicas: [], start: 1, want: 1 },
    {
      name: "no replica running yet: ceil(qps / the largest target)",
      qps: 9,
      replicas: [],
      start: 1,
      want: 3,
    },
  ])("$name", ({ qps, replicas, start, want }) => {
    expect(decide(state(start ?? 1), input(now, qps, { replicas }), 0).target).toBe(want);
  });

  it("from zero with min_replicas 0 (SkyServe would stay at min_replicas with no replica)", () => {
    const p = policy({ target_qps_per_replica: targets, min_replicas: 0 });
    expect(decide(state(0), input(p, 0.1), 0)).toMatchObject({ target: 1, reason: "from_zero" });
  });

  it("the same hysteresis: an ask for more waits for the upscale delay", () => {
    const p = policy({ target_qps_per_replica: targets });
    expect(decide(state(2), input(p, 7, { replicas: both }), 0)).toMatchObject({
      target: 2,
      wanted: 3,
      reason: "upscale_delay",
    });
  });
});
