import { describe, expect, it } from "vitest";
import {
  describeHalt,
  type FailureFacts,
  haltingFailure,
  isUnrecoverable,
  type ReplicaPhase,
  ReplicaRecord,
} from "./replica.js";

function rec(o: Partial<ReplicaRecord> & { id: number }): ReplicaRecord {
  return ReplicaRecord.parse({
    schema: 1,
    service: "llm",
    revision: 1,
    phase: "STARTING",
    backend: "local",
    url: null,
    port: null,
    accelerator: null,
    handle: null,
    host: "127.0.0.1",
    reason: null,
    message: null,
    launched_at: null,
    updated_at: "2026-01-01T00:00:00.000Z",
    ...o,
  });
}

describe("isUnrecoverable (SkyServe's unrecoverable_failure)", () => {
  const known = { causeKnown: true, revisionWasReady: false };
  it.each<{ name: string; f: FailureFacts; want: boolean }>([
    { name: "run exited, never ready", f: { reason: "ProcessExited", ...known }, want: true },
    { name: "setup failed", f: { reason: "SetupFailed", ...known }, want: true },
    { name: "initial delay exceeded", f: { reason: "InitialDelayExceeded", ...known }, want: true },
    {
      name: "a replica of its revision was ready: an accident, replaced",
      f: { reason: "ProcessExited", causeKnown: true, revisionWasReady: true },
      want: false,
    },
    {
      name: "processes found gone with no exit status (lost host)",
      f: { reason: "ProcessExited", causeKnown: false, revisionWasReady: false },
      want: false,
    },
    { name: "probes failing after ready", f: { reason: "ProbeFailing", ...known }, want: false },
    { name: "port clash", f: { reason: "PortInUse", ...known }, want: false },
    {
      name: "launch failed (FAILED_PROVISION does not halt)",
      f: { reason: "LaunchFailed", ...known },
      want: false,
    },
  ])("$name → $want", ({ f, want }) => {
    expect(isUnrecoverable(f)).toBe(want);
  });
});

describe("haltingFailure", () => {
  const bad = (id: number, o: Partial<ReplicaRecord> = {}) =>
    rec({
      id,
      phase: "FAILED",
      reason: "ProcessExited",
      message: "run exited with code 3",
      unrecoverable: true,
      ...o,
    });
  it.each<{ name: string; replicas: ReplicaRecord[]; revision?: number; want: number | null }>([
    { name: "no replica", replicas: [], want: null },
    { name: "one unrecoverable failure", replicas: [bad(1)], want: 1 },
    { name: "the newest of several", replicas: [bad(1), bad(3), bad(2)], want: 3 },
    {
      name: "min_replicas 2: one failed, the other still starting → halted",
      replicas: [bad(1), rec({ id: 2, phase: "STARTING" })],
      want: 1,
    },
    {
      name: "another replica of the revision became ready → lifted",
      replicas: [bad(1), rec({ id: 2, phase: "READY", first_ready_at: "2026-01-01T00:00:01.000Z" })],
      want: null,
    },
    {
      name: "one that was ready and is now NOT_READY still lifts it",
      replicas: [bad(1), rec({ id: 2, phase: "NOT_READY", first_ready_at: "2026-01-01T00:00:01.000Z" })],
      want: null,
    },
    { name: "a new revision is not halted by the old one's", replicas: [bad(1)], revision: 2, want: null },
    { name: "a failure not marked unrecoverable", replicas: [bad(1, { unrecoverable: false })], want: null },
    { name: "another service's failure", replicas: [bad(1, { service: "other" })], want: null },
  ])("$name", ({ replicas, revision, want }) => {
    expect(haltingFailure(replicas, "llm", revision ?? 1)?.id ?? null).toBe(want);
  });

  it.each<ReplicaPhase>(["STARTING", "SHUTTING_DOWN"])(
    "a record in %s is no failure, whatever its flag",
    (phase) => {
      expect(haltingFailure([bad(1, { phase })], "llm", 1)).toBeNull();
    },
  );

  it("describes the halt with the reason and what lifts it", () => {
    expect(describeHalt(bad(4, { revision: 2 }))).toBe(
      "replica 4 of revision 2 failed before any replica of that revision was ready " +
        "(ProcessExited: run exited with code 3); nothing new launches until the spec changes (yard up)",
    );
  });
});

describe("ReplicaRecord's log tail", () => {
  it("defaults to none and refuses more than LOG_TAIL_LINES lines", () => {
    expect(rec({ id: 1 }).log_tail).toEqual([]);
    expect(() => rec({ id: 1, log_tail: Array.from({ length: 11 }, () => "x") })).toThrow();
    expect(() => rec({ id: 1, log_tail: ["x".repeat(241)] })).toThrow();
  });
});
