import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Child } from "./child.js";
import { type Instance, Supervisor } from "./supervisor.js";

/** A stand-in process: the test decides when it is ready and when it exits. */
interface Fake extends Instance {
  n: number;
  prev: Fake | null;
  becomeReady(): void;
  exit(code: number | string): void;
}

function harness() {
  const spawned: Fake[] = [];
  const lines: string[] = [];
  const stopped: number[] = [];
  let onSpawn: (f: Fake) => void = () => {};
  const nextSpawn = () => new Promise<Fake>((r) => (onSpawn = r));
  const unit = {
    name: "svc",
    spawn(prev: Fake | null): Fake {
      let ready!: () => void;
      let fail!: (e: Error) => void;
      let exit!: (c: number | string) => void;
      const exited = new Promise<number | string>((r) => (exit = r));
      const readyP = new Promise<void>((r, j) => {
        ready = r;
        fail = j;
      });
      readyP.catch(() => {});
      let running = true;
      const n = spawned.length;
      const child = { pid: 100 + n, exited, running: () => running } as unknown as Child;
      const f: Fake = {
        n,
        prev,
        child,
        ready: readyP,
        becomeReady: ready,
        exit: (c) => {
          running = false;
          fail(new Error("exited"));
          exit(c);
        },
      };
      spawned.push(f);
      onSpawn(f);
      return f;
    },
    async stop(c: Child) {
      stopped.push(c.pid);
      return "stopped";
    },
  };
  return { unit, spawned, lines, stopped, nextSpawn, say: (l: string) => lines.push(l) };
}

const policy = { initialMs: 1, maxMs: 4 };

describe("Supervisor", () => {
  // Restart delays run on fake time: "no restart" is checked by moving the clock, not by waiting.
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("restarts a process that exits after it was ready, passing the one it replaces", async () => {
    const h = harness();
    const sup = new Supervisor(h.unit, policy, h.say);
    h.spawned[0].becomeReady();
    await h.spawned[0].ready;
    const next = h.nextSpawn();
    h.spawned[0].exit("SIGKILL");
    await vi.advanceTimersByTimeAsync(1);
    const second = await next;
    expect(second.prev).toBe(h.spawned[0]);
    expect(sup.current).toBe(second);
    second.becomeReady();
    await second.ready;
    await Promise.resolve();
    expect(h.lines).toEqual([
      expect.stringMatching(
        /^svc exited unexpectedly \(signal SIGKILL\) after [\d.]+ s; restarting it in 0 s$/,
      ),
      "restarted svc (pid 101, restart 1)",
      "svc ready again (pid 101, restart 1)",
    ]);
  });

  it("keeps retrying a crash loop at the cap and says so", async () => {
    const h = harness();
    new Supervisor(h.unit, policy, h.say);
    h.spawned[0].becomeReady();
    await h.spawned[0].ready;
    for (let i = 0; i < 4; i++) {
      const next = h.nextSpawn();
      h.spawned[i].exit(1);
      await vi.advanceTimersByTimeAsync(policy.maxMs);
      await next;
    }
    expect(h.spawned).toHaveLength(5);
    expect(h.lines.filter((l) => /crash-looping/.test(l)).length).toBeGreaterThanOrEqual(1);
    expect(h.lines.at(-2)).toMatch(/crash-looping \(4 crashes in a row\): restarting every 0 s/);
  });

  it("an exit before the first ready is a start-up failure: no restart", async () => {
    const h = harness();
    new Supervisor(h.unit, policy, h.say);
    h.spawned[0].exit(1);
    await expect(h.spawned[0].ready).rejects.toThrow();
    await vi.advanceTimersByTimeAsync(60_000); // far past any restart delay
    expect(h.spawned).toHaveLength(1);
    expect(h.lines).toEqual([]);
  });

  it("stop() during the restart delay stops the last process and cancels the restart", async () => {
    const h = harness();
    const sup = new Supervisor(h.unit, { initialMs: 10_000, maxMs: 10_000 }, h.say);
    h.spawned[0].becomeReady();
    await h.spawned[0].ready;
    h.spawned[0].exit(1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(h.lines).toEqual([expect.stringMatching(/restarting it in 10 s/)]);
    expect(await sup.stop()).toBe("stopped");
    expect(h.stopped).toEqual([100]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.spawned).toHaveLength(1);
  });

  it("an exit it asked for (stop) is not restarted", async () => {
    const h = harness();
    const sup = new Supervisor(h.unit, policy, h.say);
    h.spawned[0].becomeReady();
    await h.spawned[0].ready;
    await sup.stop();
    h.spawned[0].exit(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.spawned).toHaveLength(1);
    expect(h.lines).toEqual([]);
  });
});
