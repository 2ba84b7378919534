import { once } from "node:events";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BodyTimer } from "./body-timeout.js";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const flowing = () => {
  const body = new PassThrough();
  body.on("data", () => {});
  return body;
};

describe("BodyTimer", () => {
  it("fires once when a body being read gets no byte for the timeout", () => {
    const onIdle = vi.fn();
    new BodyTimer(flowing(), 1_000, onIdle);
    vi.advanceTimersByTime(999);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    vi.advanceTimersByTime(10_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it("each chunk starts the wait again", () => {
    const onIdle = vi.fn();
    const t = new BodyTimer(flowing(), 1_000, onIdle);
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(900);
      t.touch();
    }
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it("does not count time when nobody reads the body (paused for back-pressure, or not read yet)", () => {
    const onIdle = vi.fn();
    const paused = flowing();
    paused.pause();
    new BodyTimer(paused, 1_000, onIdle);
    new BodyTimer(new PassThrough(), 1_000, onIdle);
    vi.advanceTimersByTime(10_000);
    expect(onIdle).not.toHaveBeenCalled();
    paused.resume();
    vi.advanceTimersByTime(1_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it("stop, or a body that ended, ends the watch", async () => {
    const onIdle = vi.fn();
    new BodyTimer(flowing(), 1_000, onIdle).stop();
    const ended = flowing();
    ended.end();
    await once(ended, "end");
    new BodyTimer(ended, 1_000, onIdle);
    vi.advanceTimersByTime(10_000);
    expect(onIdle).not.toHaveBeenCalled();
  });
});
