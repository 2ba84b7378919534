import { describe, expect, it } from "vitest";
import type { LbReplica } from "./lb/types.js";
import { Lease } from "./lease.js";

/**
 * least_load exactness: every way a request can end releases its lease once. Each row is a
 * script of events; `release` runs every release path the forwarder has for that ending
 * (e.g. an upstream error reported after the client already aborted calls release twice).
 */
/** take: assign a request to replica i; end: the n-th request taken ends via `paths` releases. */
type Step = { take: number } | { end: number; paths: number } | { churn: true };

describe("in-flight accounting", () => {
  it.each<{ name: string; steps: Step[]; want: number[] }>([
    { name: "response finished", steps: [{ take: 0 }, { end: 0, paths: 1 }], want: [0, 0] },
    {
      name: "upstream error after headers (error + close both release)",
      steps: [{ take: 0 }, { end: 0, paths: 2 }],
      want: [0, 0],
    },
    {
      name: "client abort then the aborted dispatch's error",
      steps: [{ take: 0 }, { take: 1 }, { end: 0, paths: 3 }],
      want: [0, 1],
    },
    {
      name: "retry: first replica refused, second answered",
      steps: [{ take: 0 }, { end: 0, paths: 1 }, { take: 1 }, { end: 1, paths: 1 }],
      want: [0, 0],
    },
    {
      name: "churn: replica 0 re-added while a request runs; its late end leaves the new counter alone",
      steps: [{ take: 0 }, { churn: true }, { take: 0 }, { end: 0, paths: 2 }],
      want: [1, 0],
    },
  ])("$name", ({ steps, want }) => {
    let reps: LbReplica[] = [0, 1].map(() => ({ inFlight: 0, targetQps: 1, ejectedUntil: 0 }));
    const open: Lease[] = [];
    for (const s of steps) {
      if ("take" in s) open.push(new Lease(reps[s.take]));
      else if ("churn" in s) reps = [{ inFlight: 0, targetQps: 1, ejectedUntil: 0 }, reps[1]];
      else for (let k = 0; k < s.paths; k++) open[s.end].release();
    }
    expect(reps.map((r) => r.inFlight)).toEqual(want);
    for (const r of reps) expect(r.inFlight).toBeGreaterThanOrEqual(0);
  });

  it("1,000 requests with random endings and double releases leave every counter at 0", () => {
    const reps: LbReplica[] = [0, 1, 2].map(() => ({ inFlight: 0, targetQps: 1, ejectedUntil: 0 }));
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const open: Lease[] = [];
    for (let i = 0; i < 1000; i++) {
      open.push(new Lease(reps[Math.floor(rnd() * 3)]));
      if (rnd() < 0.6) {
        const l = open.splice(Math.floor(rnd() * open.length), 1)[0];
        const times = 1 + Math.floor(rnd() * 3);
        for (let k = 0; k < times; k++) l.release();
      }
    }
    for (const l of open) l.release();
    expect(reps.map((r) => r.inFlight)).toEqual([0, 0, 0]);
  });
});
