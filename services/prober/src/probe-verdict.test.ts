import { describe, expect, it } from "vitest";
import {
  INITIAL_STATE,
  type ProbeAction,
  type ProbeOutcome,
  type ProbeState,
  passed,
  type VerdictConfig,
  verdict,
} from "./probe-verdict.js";

const cfg: VerdictConfig = {
  method: "GET",
  path: "/v1/models",
  initialDelaySeconds: 60,
  failureThresholdMs: 180_000,
};
const ok: ProbeOutcome = { status: 200 };
const s401: ProbeOutcome = { status: 401 };
const s204: ProbeOutcome = { status: 204 };
const s503: ProbeOutcome = { status: 503 };
const refused: ProbeOutcome = { error: "connection refused" };
const timeout: ProbeOutcome = { error: "no response within 5 s" };

/** Run probes at the given seconds; returns the action kinds of each step and the last state. */
function runSeq(steps: [number, ProbeOutcome][], c = cfg) {
  let state: ProbeState = INITIAL_STATE;
  const perStep: string[][] = [];
  const all: ProbeAction[] = [];
  for (const [sec, o] of steps) {
    const v = verdict(state, o, sec * 1000, c);
    state = v.state;
    perStep.push(v.actions.map((a) => (a.kind === "failed" ? `failed:${a.phase}` : a.kind)));
    all.push(...v.actions);
  }
  return { perStep, state, all };
}

describe("passed: ready ⇔ HTTP status exactly 200", () => {
  it.each([
    ["200", ok, true],
    ["204 (a 2xx, still not ready)", s204, false],
    ["401", s401, false],
    ["503", s503, false],
    ["timeout", timeout, false],
    ["connection refused", refused, false],
  ])("%s", (_n, o, want) => expect(passed(o)).toBe(want));
});

describe("verdict sequences", () => {
  it.each<{ name: string; steps: [number, ProbeOutcome][]; want: string[][]; c?: VerdictConfig }>([
    { name: "first 200 → endpoint + ready", steps: [[0, ok]], want: [["put-endpoint", "ready"]] },
    {
      name: "200 while ready → nothing",
      steps: [
        [0, ok],
        [2, ok],
      ],
      want: [["put-endpoint", "ready"], []],
    },
    {
      name: "401 for 60 s is within the delay; past it → FAILED_INITIAL_DELAY once",
      steps: [
        [100, s401],
        [130, s401],
        [160, s401],
        [161, s401],
        [170, s401],
      ],
      want: [[], [], [], ["failed:FAILED_INITIAL_DELAY"], []],
    },
    {
      name: "the initial delay starts at the first probe, not at 0",
      steps: [
        [1000, refused],
        [1059, refused],
        [1061, refused],
      ],
      want: [[], [], ["failed:FAILED_INITIAL_DELAY"]],
    },
    {
      name: "204 never counts as ready",
      steps: [
        [0, s204],
        [30, s204],
        [61, s204],
      ],
      want: [[], [], ["failed:FAILED_INITIAL_DELAY"]],
    },
    {
      name: "timeouts until past the delay",
      steps: [
        [0, timeout],
        [61, timeout],
      ],
      want: [[], ["failed:FAILED_INITIAL_DELAY"]],
    },
    {
      name: "200 within the delay after failures → ready, no failure",
      steps: [
        [0, s401],
        [50, ok],
        [200, ok],
      ],
      want: [[], ["put-endpoint", "ready"], []],
    },
    {
      name: "failure after ready → unready at once; 180 s of failures → FAILED_PROBING",
      steps: [
        [0, ok],
        [10, s503],
        [12, refused],
        [189, refused],
        [190, refused],
        [200, refused],
      ],
      want: [
        ["put-endpoint", "ready"],
        ["delete-endpoint", "unready"],
        [],
        [],
        ["failed:FAILED_PROBING"],
        [],
      ],
    },
    {
      name: "a once-ready replica is not judged by the initial delay",
      steps: [
        [0, ok],
        [10, s401],
        [80, s401],
      ],
      want: [["put-endpoint", "ready"], ["delete-endpoint", "unready"], []],
    },
    {
      name: "flapping: each pass clears the failure window, so no FAILED_PROBING",
      steps: [
        [0, ok],
        [10, s503],
        [150, ok],
        [160, s503],
        [300, ok],
        [310, s503],
        [489, s503],
      ],
      want: [
        ["put-endpoint", "ready"],
        ["delete-endpoint", "unready"],
        ["put-endpoint", "ready"],
        ["delete-endpoint", "unready"],
        ["put-endpoint", "ready"],
        ["delete-endpoint", "unready"],
        [],
      ],
    },
    {
      name: "after a verdict of failure a 200 changes nothing",
      steps: [
        [0, s401],
        [61, s401],
        [62, ok],
      ],
      want: [[], ["failed:FAILED_INITIAL_DELAY"], []],
    },
    {
      name: "initial_delay_seconds 0: the second failed probe fails it",
      c: { ...cfg, initialDelaySeconds: 0 },
      steps: [
        [0, s401],
        [2, s401],
      ],
      want: [[], ["failed:FAILED_INITIAL_DELAY"]],
    },
  ])("$name", ({ steps, want, c }) => {
    expect(runSeq(steps, c).perStep).toEqual(want);
  });
});

describe("verdict state and messages", () => {
  it("first success sets firstReadyAt, later ones keep it", () => {
    const { state } = runSeq([
      [5, s401],
      [7, ok],
      [9, ok],
    ]);
    expect(state).toEqual({ ready: true, firstReadyAt: 7000, failingSince: null, failed: false });
  });

  it("FAILED_INITIAL_DELAY says what the probe got, for how long, and the setting", () => {
    const { all } = runSeq([
      [0, s401],
      [61, s401],
    ]);
    expect(all).toEqual([
      {
        kind: "failed",
        phase: "FAILED_INITIAL_DELAY",
        reason: "InitialDelayExceeded",
        message: "readiness probe GET /v1/models got HTTP 401 for 61 s (initial_delay_seconds 60)",
      },
    ]);
  });

  it("FAILED_PROBING names the last outcome and the threshold; unready names the outcome", () => {
    const post = { ...cfg, method: "POST" as const, path: "/v1/completions" };
    const { all } = runSeq(
      [
        [0, ok],
        [10, refused],
        [190, refused],
      ],
      post,
    );
    expect(all.slice(3)).toEqual([
      {
        kind: "unready",
        message: "readiness probe POST /v1/completions got connection refused",
      },
      {
        kind: "failed",
        phase: "FAILED_PROBING",
        reason: "ProbeFailing",
        message:
          "readiness probe POST /v1/completions got connection refused; not ready for 180 s (threshold 180 s)",
      },
    ]);
  });

  it("does not mutate the previous state", () => {
    const prev = { ...INITIAL_STATE };
    verdict(prev, s401, 0, cfg);
    expect(prev).toEqual(INITIAL_STATE);
  });
});
