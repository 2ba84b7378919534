import { describe, expect, it } from "vitest";
import { LeftWhileWaiting, Slots } from "./slots.js";

describe("Slots (the scheduler as promises)", () => {
  it("runs up to max at once; a release starts the oldest waiter; an abort leaves the queue", async () => {
    const slots = new Slots(1);
    const started: string[] = [];
    const mark =
      (name: string) =>
      (release: () => void): (() => void) => {
        started.push(name);
        return release;
      };
    const ac = new AbortController();
    const a = slots.acquire(new AbortController().signal).then(mark("a"));
    const b = slots.acquire(ac.signal).then(mark("b"), (e: unknown) => e);
    const c = slots.acquire(new AbortController().signal).then(mark("c"));
    const releaseA = await a;
    expect([slots.running, slots.waiting]).toEqual([1, 2]);
    ac.abort();
    expect(await b).toBeInstanceOf(LeftWhileWaiting);
    expect([slots.running, slots.waiting]).toEqual([1, 1]);
    releaseA();
    releaseA(); // twice is harmless
    const releaseC = await c;
    expect(started).toEqual(["a", "c"]);
    expect([slots.running, slots.waiting]).toEqual([1, 0]);
    releaseC();
    expect([slots.running, slots.waiting]).toEqual([0, 0]);
  });

  it("an already aborted signal never queues", async () => {
    const slots = new Slots(1);
    const ac = new AbortController();
    ac.abort();
    await expect(slots.acquire(ac.signal)).rejects.toBeInstanceOf(LeftWhileWaiting);
    expect([slots.running, slots.waiting]).toEqual([0, 0]);
  });

  it("an abort after the request started is the runner's business: the slot stays until released", async () => {
    const slots = new Slots(1);
    const ac = new AbortController();
    const release = await slots.acquire(ac.signal);
    ac.abort();
    expect(slots.running).toBe(1);
    release();
    expect(slots.running).toBe(0);
  });
});
