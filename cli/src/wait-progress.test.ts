import { endpointRecord, replicaRecord } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import { changedLines, initialWaitState, phaseLine, waitingFor, waitOutcome } from "./wait-progress.js";

describe("phaseLine", () => {
  it.each([
    {
      name: "provisioning",
      r: replicaRecord({ service: "llm", id: 1, phase: "PROVISIONING", revision: 2 }),
      phase: "PROVISIONING" as const,
      want: "replica 1: PROVISIONING",
    },
    {
      name: "starting shows its url",
      r: replicaRecord({
        service: "llm",
        id: 1,
        phase: "STARTING",
        revision: 2,
        url: "http://127.0.0.1:8000",
      }),
      phase: "STARTING" as const,
      want: "replica 1: STARTING (http://127.0.0.1:8000)",
    },
    {
      name: "ready shows its url",
      r: replicaRecord({ service: "llm", id: 1, phase: "READY", revision: 2, url: "http://127.0.0.1:8000" }),
      phase: "READY" as const,
      want: "replica 1: READY (http://127.0.0.1:8000)",
    },
    {
      name: "pending with its reason",
      r: replicaRecord({
        service: "llm",
        id: 2,
        phase: "PENDING",
        revision: 2,
        reason: "NoAcceleratorFree",
        message: "inventory L4:1 in use",
      }),
      phase: "PENDING" as const,
      want: "replica 2: PENDING — NoAcceleratorFree: inventory L4:1 in use",
    },
    {
      name: "a replica of an older revision says so",
      r: replicaRecord({ service: "llm", id: 3, phase: "READY", revision: 1, url: null }),
      phase: "READY" as const,
      want: "replica 3 (revision 1): READY",
    },
  ])("$name", ({ r, phase, want }) => {
    expect(phaseLine(r, phase, 2)).toBe(want);
  });
});

describe("changedLines + waitOutcome, step by step", () => {
  it("prints each change once and ends READY on an endpoint of the current revision", () => {
    const s = initialWaitState("llm", 2);
    const steps: { apply: () => void; lines: string[]; done: boolean }[] = [
      {
        apply: () =>
          s.replicas.set(1, replicaRecord({ service: "llm", id: 1, phase: "PENDING", revision: 2 })),
        lines: ["replica 1: PENDING"],
        done: false,
      },
      { apply: () => {}, lines: [], done: false },
      {
        apply: () =>
          s.replicas.set(1, replicaRecord({ service: "llm", id: 1, phase: "PROVISIONING", revision: 2 })),
        lines: ["replica 1: PROVISIONING"],
        done: false,
      },
      {
        apply: () =>
          s.replicas.set(
            1,
            replicaRecord({ service: "llm", id: 1, phase: "STARTING", revision: 2, url: "http://h:1" }),
          ),
        lines: ["replica 1: STARTING (http://h:1)"],
        done: false,
      },
      {
        apply: () => s.endpoints.set(9, endpointRecord({ service: "llm", replica_id: 9, revision: 1 })),
        lines: [],
        done: false,
      },
      {
        apply: () => s.endpoints.set(1, endpointRecord({ service: "llm", replica_id: 1, revision: 2 })),
        lines: ["replica 1: READY (http://h:1)"],
        done: true,
      },
    ];
    for (const st of steps) {
      st.apply();
      expect(changedLines(s)).toEqual(st.lines);
      expect(waitOutcome(s).done).toBe(st.done);
    }
    expect(waitOutcome(s)).toEqual({ done: true, ok: true, url: "http://127.0.0.1:8001", replica: 1 });
  });

  it.each([
    { name: "a failed replica of this revision ends it", revision: 2, want: true },
    { name: "a failed replica of an older revision does not", revision: 1, want: false },
  ])("$name", ({ revision, want }) => {
    const s = initialWaitState("llm", 2);
    s.replicas.set(
      4,
      replicaRecord({
        service: "llm",
        id: 4,
        phase: "FAILED_INITIAL_DELAY",
        revision,
        reason: "InitialDelayExceeded",
        message: "HTTP 401",
      }),
    );
    const r = waitOutcome(s);
    expect(r.done).toBe(want);
    if (r.done && !r.ok)
      expect([r.phase, r.reason, r.message]).toEqual([
        "FAILED_INITIAL_DELAY",
        "InitialDelayExceeded",
        "HTTP 401",
      ]);
  });

  it("reports a removed replica", () => {
    const s = initialWaitState("llm", 1);
    s.replicas.set(1, replicaRecord({ service: "llm", id: 1, phase: "STARTING" }));
    changedLines(s);
    s.replicas.delete(1);
    expect(changedLines(s)).toEqual(["replica 1: removed"]);
  });
});

describe("waitingFor", () => {
  it.each([
    {
      name: "nothing launched",
      replicas: [],
      want: /no replica launched yet \(is the provisioner running\?\)/,
    },
    {
      name: "lists phases of this revision",
      replicas: [
        replicaRecord({ service: "llm", id: 1, phase: "STARTING", revision: 2 }),
        replicaRecord({ service: "llm", id: 2, phase: "READY", revision: 1 }),
      ],
      want: /now: replica 1 STARTING$/,
    },
  ])("$name", ({ replicas, want }) => {
    const s = initialWaitState("llm", 2);
    for (const r of replicas) s.replicas.set(r.id, r);
    expect(waitingFor(s)).toMatch(want);
  });
});
