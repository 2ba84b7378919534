import { describe, expect, it } from "vitest";
import { instanceAwareLeastLoad, leastLoad, targetQpsFor } from "./least-load.js";
import { policies } from "./registry.js";
import { roundRobin } from "./round-robin.js";
import type { LbReplica } from "./types.js";

type R = LbReplica & { name: string };
const rep = (name: string, inFlight = 0, targetQps = 1, ejectedUntil = 0): R => ({
  name,
  inFlight,
  targetQps,
  ejectedUntil,
});
const NOW = 1_000;
const names = (rs: (R | null)[]) => rs.map((r) => r?.name ?? null);

describe("round_robin", () => {
  it.each([
    { name: "cycles in order", set: [rep("a"), rep("b"), rep("c")], picks: 4, want: ["a", "b", "c", "a"] },
    {
      name: "skips an ejected replica",
      set: [rep("a"), rep("b", 0, 1, NOW + 1), rep("c")],
      picks: 3,
      want: ["a", "c", "a"],
    },
    {
      name: "uses an ejected replica when every one is ejected",
      set: [rep("a", 0, 1, NOW + 5), rep("b", 0, 1, NOW + 5)],
      picks: 1,
      want: ["a"],
    },
    { name: "empty set picks nothing", set: [], picks: 1, want: [null] },
  ])("$name", ({ set, picks, want }) => {
    const state = { cursor: 0 };
    const got = Array.from({ length: picks }, () => roundRobin.pick(set, state, NOW, null));
    expect(names(got)).toEqual(want);
  });

  it("never re-picks a replica the request already tried", () => {
    const set = [rep("a"), rep("b"), rep("c")];
    const state = { cursor: 0 };
    expect(roundRobin.pick(set, state, NOW, [set[1]])?.name).toBe("a");
    expect(roundRobin.pick(set, state, NOW, [set[1]])?.name).toBe("c");
    expect(roundRobin.pick(set, state, NOW, set)).toBeNull();
  });

  it("shuffles on a set change and restarts the cursor", () => {
    const set = [rep("a"), rep("b"), rep("c"), rep("d")];
    const state = { cursor: 3 };
    const seq = [0.1, 0.9, 0.5];
    roundRobin.onSetChange(set, state, () => seq.shift() ?? 0);
    expect(state.cursor).toBe(0);
    expect(names(set)).not.toEqual(["a", "b", "c", "d"]);
    expect(names(set).sort()).toEqual(["a", "b", "c", "d"]);
  });
});

describe("least_load", () => {
  it.each([
    { name: "fewest in flight wins", set: [rep("a", 3), rep("b", 1), rep("c", 2)], want: "b" },
    {
      name: "an ejected idle replica loses to a busy one",
      set: [rep("a", 0, 1, NOW + 1), rep("b", 9)],
      want: "b",
    },
    { name: "an expired ejection counts as usable", set: [rep("a", 0, 1, NOW - 1), rep("b", 9)], want: "a" },
    {
      name: "all ejected: least loaded ejected one",
      set: [rep("a", 4, 1, NOW + 1), rep("b", 2, 1, NOW + 1)],
      want: "b",
    },
  ])("$name", ({ set, want }) => {
    expect(leastLoad.pick(set, { cursor: 0 }, NOW, null)?.name).toBe(want);
  });

  it("rotates among equally loaded replicas instead of always taking the first", () => {
    const set = [rep("a"), rep("b"), rep("c")];
    const state = { cursor: 0 };
    expect(names([1, 2, 3].map(() => leastLoad.pick(set, state, NOW, null)))).toEqual(["a", "b", "c"]);
  });
});

describe("instance_aware_least_load", () => {
  it.each([
    {
      name: "load divided by target QPS: the faster GPU takes more",
      set: [rep("l4", 2, 2), rep("a100", 4, 10)],
      want: "a100",
    },
    { name: "equal ratios fall back to rotation order", set: [rep("x", 1, 1), rep("y", 2, 2)], want: "x" },
    { name: "raw in-flight when targets are equal", set: [rep("x", 3, 5), rep("y", 2, 5)], want: "y" },
  ])("$name", ({ set, want }) => {
    expect(instanceAwareLeastLoad.pick(set, { cursor: 0 }, NOW, null)?.name).toBe(want);
  });

  it.each<{ name: string; acc: string | null; target: number | Record<string, number> | null; want: number }>(
    [
      { name: "exact accelerator key", acc: "A100", target: { A100: 8, L4: 2 }, want: 8 },
      { name: "base name before ':'", acc: "A100:4", target: { A100: 8 }, want: 8 },
      { name: "key with a count matches the bare name", acc: "L4", target: { "L4:1": 3 }, want: 3 },
      { name: "unknown accelerator → 1.0", acc: "H100", target: { A100: 8 }, want: 1 },
      { name: "CPU replica → 1.0", acc: null, target: { A100: 8 }, want: 1 },
      { name: "a single number applies to all", acc: "L4", target: 5, want: 5 },
      { name: "no target → 1.0", acc: "L4", target: null, want: 1 },
      { name: "zero target is not a divisor → 1.0", acc: "L4", target: { L4: 0 }, want: 1 },
    ],
  )("target QPS: $name", ({ acc, target, want }) => {
    expect(targetQpsFor(acc, target)).toBe(want);
  });
});

describe("registry", () => {
  it("has one implementation per load_balancing_policy name", () => {
    expect(Object.keys(policies).sort()).toEqual(["instance_aware_least_load", "least_load", "round_robin"]);
  });
});
