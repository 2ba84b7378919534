import { describe, expect, it } from "vitest";
import type { LbReplica } from "./lb/types.js";
import { ejectionCap, Outlier } from "./outlier.js";

const NOW = 1_000;
const replicas = (n: number): LbReplica[] =>
  Array.from({ length: n }, () => ({ inFlight: 0, targetQps: 1, ejectedUntil: 0 }));

describe("ejectionCap", () => {
  it.each([
    { total: 1, share: 0.5, want: 1 },
    { total: 2, share: 0.5, want: 1 },
    { total: 3, share: 0.5, want: 1 },
    { total: 4, share: 0.5, want: 2 },
    { total: 10, share: 0.1, want: 1 },
    { total: 10, share: 1, want: 10 },
    { total: 10, share: 0, want: 1 },
  ])("$total replicas at $share → $want", ({ total, share, want }) => {
    expect(ejectionCap(total, share)).toBe(want);
  });
});

describe("Outlier", () => {
  it("ejects after N consecutive failures; a response in between starts the count again", () => {
    const rs = replicas(4);
    const o = new Outlier({ ejectAfter: 3, maxShare: 0.5 });
    expect(o.failure(rs[0], false, rs, NOW)).toBe(false);
    expect(o.failure(rs[0], false, rs, NOW)).toBe(false);
    o.success(rs[0]);
    expect(o.failure(rs[0], false, rs, NOW)).toBe(false);
    expect(o.failure(rs[0], false, rs, NOW)).toBe(false);
    expect(o.failure(rs[0], false, rs, NOW)).toBe(true);
    // The count starts again after an ejection.
    expect(o.failure(rs[0], false, rs, NOW)).toBe(false);
  });

  it("a connect failure ejects at once", () => {
    const rs = replicas(2);
    const o = new Outlier({ ejectAfter: 3, maxShare: 0.5 });
    expect(o.failure(rs[1], true, rs, NOW)).toBe(true);
  });

  it("never takes out more than the share of a service's replicas", () => {
    const rs = replicas(4);
    const o = new Outlier({ ejectAfter: 1, maxShare: 0.5 });
    rs[0].ejectedUntil = NOW + 5_000;
    expect(o.failure(rs[1], true, rs, NOW)).toBe(true);
    rs[1].ejectedUntil = NOW + 5_000;
    expect(o.failure(rs[2], true, rs, NOW)).toBe(false); // 2 of 4 out already
    // An expired ejection frees a place.
    expect(o.failure(rs[2], true, rs, NOW + 6_000)).toBe(true);
  });

  it("a single replica may be ejected (the pick still falls back to it)", () => {
    const rs = replicas(1);
    expect(new Outlier({ ejectAfter: 1, maxShare: 0.5 }).failure(rs[0], false, rs, NOW)).toBe(true);
  });

  it("a capped replica keeps its count and goes as soon as there is room", () => {
    const rs = replicas(2);
    const o = new Outlier({ ejectAfter: 2, maxShare: 0.5 });
    rs[0].ejectedUntil = NOW + 5_000;
    expect(o.failure(rs[1], false, rs, NOW)).toBe(false);
    expect(o.failure(rs[1], false, rs, NOW)).toBe(false); // due, but 1 of 2 is out
    rs[0].ejectedUntil = 0;
    expect(o.failure(rs[1], false, rs, NOW)).toBe(true);
  });
});
