import { describe, expect, it } from "vitest";
import { HoldQueues } from "./hold-queue.js";

type Step =
  | ["add", string, string, boolean]
  | ["remove", string, string, boolean]
  | ["take", string, string[]]
  | ["takeAll", string[]];

describe("HoldQueues", () => {
  it.each<{ name: string; max: number; steps: Step[]; sizes: Record<string, number> }>([
    {
      name: "arrival order per service",
      max: 5,
      steps: [
        ["add", "a", "r1", true],
        ["add", "b", "x1", true],
        ["add", "a", "r2", true],
        ["add", "a", "r3", true],
        ["take", "a", ["r1", "r2", "r3"]],
        ["take", "a", []],
      ],
      sizes: { b: 1 },
    },
    {
      name: "bounded per service: one more is refused, another service is not affected",
      max: 2,
      steps: [
        ["add", "a", "r1", true],
        ["add", "a", "r2", true],
        ["add", "a", "r3", false],
        ["add", "b", "x1", true],
        ["remove", "a", "r1", true],
        ["add", "a", "r3", true],
        ["take", "a", ["r2", "r3"]],
      ],
      sizes: { b: 1 },
    },
    {
      name: "a client that left is dropped from the middle; the rest keep their order",
      max: 5,
      steps: [
        ["add", "a", "r1", true],
        ["add", "a", "r2", true],
        ["add", "a", "r3", true],
        ["remove", "a", "r2", true],
        ["remove", "a", "r2", false],
        ["remove", "nope", "r1", false],
        ["take", "a", ["r1", "r3"]],
      ],
      sizes: {},
    },
    {
      name: "max 0 holds nothing",
      max: 0,
      steps: [["add", "a", "r1", false]],
      sizes: {},
    },
    {
      name: "the same request twice is refused",
      max: 5,
      steps: [
        ["add", "a", "r1", true],
        ["add", "a", "r1", false],
      ],
      sizes: { a: 1 },
    },
    {
      name: "takeAll (shutdown) empties every line",
      max: 5,
      steps: [
        ["add", "a", "r1", true],
        ["add", "b", "x1", true],
        ["add", "a", "r2", true],
        ["takeAll", ["r1", "r2", "x1"]],
      ],
      sizes: {},
    },
  ])("$name", ({ max, steps, sizes }) => {
    const q = new HoldQueues<string>(max);
    for (const s of steps) {
      if (s[0] === "add") expect(q.add(s[1], s[2]), s.join(" ")).toBe(s[3]);
      else if (s[0] === "remove") expect(q.remove(s[1], s[2]), s.join(" ")).toBe(s[3]);
      else if (s[0] === "take") expect(q.take(s[1])).toEqual(s[2]);
      else expect(q.takeAll()).toEqual(s[1]);
    }
    expect(Object.fromEntries(q.sizes())).toEqual(sizes);
    for (const [s, n] of Object.entries(sizes)) expect(q.size(s)).toBe(n);
  });
});
