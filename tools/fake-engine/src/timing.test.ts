import { describe, expect, it } from "vitest";
import { delayFromRate, runningMs, tokenDueMs, waitBeforeToken } from "./timing.js";

describe("token timing (per sequence, from the moment it runs)", () => {
  it.each([
    { name: "instant (the defaults)", t: { prefillMs: 0, tokenDelayMs: 0 }, due: [0, 0, 0], total: 0 },
    { name: "decode only", t: { prefillMs: 0, tokenDelayMs: 50 }, due: [0, 50, 100], total: 100 },
    {
      name: "prefill then decode",
      t: { prefillMs: 200, tokenDelayMs: 20 },
      due: [200, 220, 240],
      total: 240,
    },
    { name: "prefill only", t: { prefillMs: 30, tokenDelayMs: 0 }, due: [30, 30, 30], total: 30 },
    {
      name: "fractional rate (3 tokens/s)",
      t: { prefillMs: 0, tokenDelayMs: 1000 / 3 },
      due: [0, 1000 / 3, 2000 / 3],
      total: 2000 / 3,
    },
  ])("$name: token i due at prefill + i*delay, 3 tokens take $total ms", ({ t, due, total }) => {
    expect([0, 1, 2].map((i) => tokenDueMs(t, i))).toEqual(due);
    expect(runningMs(t, 3)).toBe(total);
  });

  it("zero tokens take no time", () => {
    expect(runningMs({ prefillMs: 100, tokenDelayMs: 10 }, 0)).toBe(0);
  });

  it.each([
    { name: "on time: wait the gap", i: 1, elapsed: 100, wait: 20 },
    { name: "first token: the prefill", i: 0, elapsed: 0, wait: 100 },
    { name: "a late timer does not push later tokens back", i: 2, elapsed: 135, wait: 5 },
    { name: "already overdue: now", i: 1, elapsed: 500, wait: 0 },
  ])("waitBeforeToken: $name", ({ i, elapsed, wait }) => {
    expect(waitBeforeToken({ prefillMs: 100, tokenDelayMs: 20 }, i, elapsed)).toBe(wait);
  });

  it.each([
    { rate: 1, delay: 1000 },
    { rate: 50, delay: 20 },
    { rate: 0.5, delay: 2000 },
  ])("$rate tokens/s = one every $delay ms", ({ rate, delay }) => {
    expect(delayFromRate(rate)).toBe(delay);
  });
});
