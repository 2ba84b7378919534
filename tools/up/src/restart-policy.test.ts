import { describe, expect, it } from "vitest";
import { describeExit, nextRestart, restartLine } from "./restart-policy.js";

const p = { initialMs: 500, maxMs: 30_000 };

describe("nextRestart", () => {
  it("doubles from the initial delay per crash in a row, up to the cap, and says when it is crash-looping", () => {
    let consecutive = 0;
    const seen: [number, boolean][] = [];
    for (let i = 0; i < 9; i++) {
      const d = nextRestart(p, consecutive, 100);
      consecutive = d.consecutive;
      seen.push([d.delayMs, d.crashLooping]);
    }
    expect(seen).toEqual([
      [500, false],
      [1000, false],
      [2000, false],
      [4000, false],
      [8000, false],
      [16000, false],
      [30000, true],
      [30000, true],
      [30000, true],
    ]);
  });

  it("a run as long as the cap counts as healthy: the next crash starts over", () => {
    expect(nextRestart(p, 8, 30_000)).toEqual({ delayMs: 500, consecutive: 1, crashLooping: false });
    expect(nextRestart(p, 8, 29_999)).toMatchObject({ delayMs: 30_000, consecutive: 9 });
  });

  it("never overflows however long the loop", () => {
    expect(nextRestart(p, 10_000, 0).delayMs).toBe(30_000);
  });

  it("a cap equal to the initial delay: every restart waits that long", () => {
    expect(nextRestart({ initialMs: 200, maxMs: 200 }, 0, 0)).toEqual({
      delayMs: 200,
      consecutive: 1,
      crashLooping: false,
    });
    expect(nextRestart({ initialMs: 200, maxMs: 200 }, 1, 0).crashLooping).toBe(true);
  });
});

describe("restartLine", () => {
  it.each([
    {
      code: "SIGKILL",
      d: { delayMs: 500, consecutive: 1, crashLooping: false },
      line: "provisioner exited unexpectedly (signal SIGKILL) after 12.3 s; restarting it in 0.5 s",
    },
    {
      code: 1,
      d: { delayMs: 30_000, consecutive: 7, crashLooping: true },
      line: "provisioner exited unexpectedly (exit code 1) after 12.3 s; crash-looping (7 crashes in a row): restarting every 30 s until it stays up (see its lines above)",
    },
  ])("$line", ({ code, d, line }) => {
    expect(restartLine("provisioner", code, 12_345, d)).toBe(line);
  });

  it("describeExit", () => {
    expect(describeExit(0)).toBe("exit code 0");
    expect(describeExit("SIGTERM")).toBe("signal SIGTERM");
  });
});
