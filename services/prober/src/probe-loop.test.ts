import { describe, expect, it } from "vitest";
import { createProbeLoop, type Timers } from "./probe-loop.js";

/** A probe that resolves only when the test says so; records every start. */
function harness(opts: { concurrency?: number; due?: string[] } = {}) {
  const started: string[] = [];
  const open = new Map<string, (() => void)[]>();
  let tickFn: (() => void) | null = null;
  const timers: Timers = {
    setInterval: (fn) => {
      tickFn = fn;
      return 1;
    },
    clearInterval: () => {
      tickFn = null;
    },
  };
  const loop = createProbeLoop({
    intervalMs: 1000,
    concurrency: opts.concurrency ?? 64,
    timers,
    due: () => opts.due ?? [],
    probeOnce: (key) =>
      new Promise<void>((resolve) => {
        started.push(key);
        open.set(key, [...(open.get(key) ?? []), resolve]);
      }),
    onError: () => {},
  });
  /** Let queued microtasks (probe starts after a finish) run. */
  const settle = () => new Promise<void>((r) => setImmediate(r));
  const finish = async (key: string) => {
    open.get(key)?.shift()?.();
    await settle();
  };
  return { loop, started, finish, settle, tick: () => tickFn?.(), ticking: () => tickFn !== null };
}

describe("probe loop", () => {
  it("a faster tick probes only the replicas that never passed a probe", async () => {
    const ticks = new Map<number, () => void>();
    const timers: Timers = {
      setInterval: (fn, ms) => {
        ticks.set(ms, fn);
        return ms;
      },
      clearInterval: (h) => {
        ticks.delete(h as number);
      },
    };
    const started: string[] = [];
    const loop = createProbeLoop({
      intervalMs: 2000,
      startingIntervalMs: 100,
      concurrency: 64,
      timers,
      due: () => ["ready", "starting"],
      dueStarting: () => ["starting"],
      probeOnce: async (key) => {
        started.push(key);
      },
      onError: () => {},
    });
    loop.start();
    expect([...ticks.keys()].sort((a, b) => a - b)).toEqual([100, 2000]);
    const settle = () => new Promise<void>((r) => setImmediate(r));
    ticks.get(100)!();
    await settle();
    ticks.get(100)!();
    await settle();
    expect(started).toEqual(["starting", "starting"]);
    ticks.get(2000)!();
    await settle();
    expect(started).toEqual(["starting", "starting", "ready", "starting"]);
    await loop.stop();
    expect(ticks.size).toBe(0);
  });

  it("a tick probes every due replica, skipping one whose probe is still in flight", async () => {
    const h = harness({ due: ["a", "b"] });
    h.loop.start();
    h.tick();
    await h.settle();
    expect(h.started).toEqual(["a", "b"]);
    await h.finish("a");
    h.tick();
    await h.settle();
    expect(h.started).toEqual(["a", "b", "a"]);
  });

  it("kicks during a probe queue exactly one more probe of that replica", async () => {
    const h = harness();
    h.loop.kick("a");
    await h.settle();
    h.loop.kick("a");
    h.loop.kick("a");
    h.loop.kick("a");
    expect(h.started).toEqual(["a"]);
    await h.finish("a");
    expect(h.started).toEqual(["a", "a"]);
    await h.finish("a");
    expect(h.started).toEqual(["a", "a"]);
    expect(h.loop.inFlight()).toBe(0);
  });

  it("runs at most `concurrency` probes at once", async () => {
    const h = harness({ concurrency: 2, due: ["a", "b", "c"] });
    h.loop.start();
    h.tick();
    await h.settle();
    expect(h.started).toEqual(["a", "b"]);
    await h.finish("b");
    expect(h.started).toEqual(["a", "b", "c"]);
  });

  it("stop waits for probes in flight and starts no new ones", async () => {
    const h = harness({ due: ["a"] });
    h.loop.start();
    h.tick();
    await h.settle();
    h.loop.kick("a");
    let stopped = false;
    const s = h.loop.stop().then(() => {
      stopped = true;
    });
    await h.settle();
    expect(stopped).toBe(false);
    expect(h.ticking()).toBe(false);
    await h.finish("a");
    await s;
    expect(h.started).toEqual(["a"]);
    h.loop.kick("b");
    expect(h.started).toEqual(["a"]);
  });
});
