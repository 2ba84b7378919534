import { describe, expect, it } from "vitest";
import { arrive, leave, newScheduler, type SchedulerState } from "./scheduler.js";

type Op = ["arrive" | "leave", number];

/** Applies ops in order; returns the final state and every id started, in start order. */
function play(max: number, ops: Op[]): { state: SchedulerState; started: number[] } {
  let state = newScheduler(max);
  const started: number[] = [];
  for (const [op, id] of ops) {
    const step = op === "arrive" ? arrive(state, id) : leave(state, id);
    state = step.state;
    started.push(...step.started);
  }
  return { state, started };
}

const arrivals = (...ids: number[]): Op[] => ids.map((id) => ["arrive", id]);

describe("vLLM admission: max_num_seqs running, the rest FIFO", () => {
  it.each<{ name: string; max: number; ops: Op[]; running: number[]; waiting: number[]; started: number[] }>([
    {
      name: "below capacity: all run",
      max: 3,
      ops: arrivals(1, 2),
      running: [1, 2],
      waiting: [],
      started: [1, 2],
    },
    {
      name: "5 arrive at max 2: 2 run, 3 wait in arrival order",
      max: 2,
      ops: arrivals(1, 2, 3, 4, 5),
      running: [1, 2],
      waiting: [3, 4, 5],
      started: [1, 2],
    },
    {
      name: "a finish starts the oldest waiter",
      max: 2,
      ops: [...arrivals(1, 2, 3, 4), ["leave", 2]],
      running: [1, 3],
      waiting: [4],
      started: [1, 2, 3],
    },
    {
      name: "a waiter that leaves never runs; the next one keeps its place",
      max: 1,
      ops: [...arrivals(1, 2, 3), ["leave", 2], ["leave", 1]],
      running: [3],
      waiting: [],
      started: [1, 3],
    },
    {
      name: "all finish in turn: every request starts exactly once, FIFO",
      max: 2,
      ops: [...arrivals(1, 2, 3, 4, 5), ["leave", 1], ["leave", 2], ["leave", 3], ["leave", 4], ["leave", 5]],
      running: [],
      waiting: [],
      started: [1, 2, 3, 4, 5],
    },
    {
      name: "a late arrival queues behind earlier waiters even when it arrives as a slot frees",
      max: 1,
      ops: [...arrivals(1, 2), ["leave", 1], ["arrive", 3]],
      running: [2],
      waiting: [3],
      started: [1, 2],
    },
    {
      name: "leaving twice, or an unknown id, changes nothing",
      max: 1,
      ops: [...arrivals(1, 2), ["leave", 1], ["leave", 1], ["leave", 99]],
      running: [2],
      waiting: [],
      started: [1, 2],
    },
    {
      name: "the same id arriving twice counts once",
      max: 1,
      ops: arrivals(1, 1, 2, 2),
      running: [1],
      waiting: [2],
      started: [1],
    },
    {
      name: "vLLM's default 256: the 257th waits",
      max: 256,
      ops: arrivals(...Array.from({ length: 257 }, (_, i) => i + 1)),
      running: Array.from({ length: 256 }, (_, i) => i + 1),
      waiting: [257],
      started: Array.from({ length: 256 }, (_, i) => i + 1),
    },
  ])("$name", ({ max, ops, running, waiting, started }) => {
    const r = play(max, ops);
    expect(r.state.running).toEqual(running);
    expect(r.state.waiting).toEqual(waiting);
    expect(r.started).toEqual(started);
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses max_num_seqs %s", (max) => {
    expect(() => newScheduler(max)).toThrow(/maxNumSeqs must be an integer >= 1/);
  });

  it("never mutates the state it was given", () => {
    const s0 = newScheduler(1);
    const s1 = arrive(s0, 1).state;
    arrive(s1, 2);
    leave(s1, 1);
    expect(s0).toEqual({ maxNumSeqs: 1, running: [], waiting: [] });
    expect(s1).toEqual({ maxNumSeqs: 1, running: [1], waiting: [] });
  });
});
