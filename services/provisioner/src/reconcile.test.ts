import type { ReplicaRecord, SpecRecord } from "@switchyard/contracts";
import { replicaRecord as rep, specRecord } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import { backoffDelayMs } from "./backoff.js";
import { parseGpuList } from "./inventory.js";
import { desiredReplicas, reconcile, servingRevisions, type World } from "./reconcile.js";

const NOW = 1_000_000;

function world(o: {
  specs?: SpecRecord[];
  replicas?: ReplicaRecord[];
  endpoints?: string[];
  gpus?: string;
  scale?: Record<string, number>;
  backoff?: Record<string, { failures: number; lastFailureAt: number }>;
  sameLaunch?: boolean;
}): World {
  return {
    now: NOW,
    specs: new Map((o.specs ?? []).map((s) => [s.name, s])),
    scale: new Map(Object.entries(o.scale ?? {})),
    replicas: o.replicas ?? [],
    endpoints: new Set(o.endpoints ?? []),
    inventory: parseGpuList(o.gpus ?? ""),
    backoff: new Map(Object.entries(o.backoff ?? {})),
    nextId: new Map(),
    sameLaunch: () => o.sameLaunch ?? false,
  };
}

const launch = (id: number, accelerator: unknown = null, revision = 1) => ({
  type: "launch",
  service: "svc",
  id,
  revision,
  accelerator,
});

describe("desiredReplicas: the autoscaler's target within the spec's bounds", () => {
  const spec = (overprovision: number) => {
    const r = specRecord({ replicas: 1, maxReplicas: 3, targetQps: 2 });
    return {
      ...r,
      spec: {
        ...r.spec,
        service: {
          ...r.spec.service,
          replica_policy: { ...r.spec.service.replica_policy, num_overprovision: overprovision },
        },
      },
    } as SpecRecord;
  };
  it.each([
    { name: "no autoscaler yet: min_replicas", over: 0, scale: undefined, want: 1 },
    { name: "below min", over: 0, scale: 0, want: 1 },
    { name: "within bounds", over: 0, scale: 2, want: 2 },
    { name: "above max", over: 0, scale: 5, want: 3 },
    { name: "SkyServe's final target: max plus num_overprovision", over: 1, scale: 4, want: 4 },
    { name: "and no further", over: 1, scale: 9, want: 4 },
  ])("$name", ({ over, scale, want }) => {
    expect(desiredReplicas(spec(over), scale)).toBe(want);
  });
});

describe("reconcile", () => {
  it.each<{ name: string; w: World; actions: unknown[] }>([
    {
      name: "new spec with replicas: 3 → three CPU launches with fresh ids",
      w: world({ specs: [specRecord({ replicas: 3 })] }),
      actions: [launch(1), launch(2), launch(3)],
    },
    {
      name: "converged: nothing to do (idempotent)",
      w: world({ specs: [specRecord({ replicas: 2 })], replicas: [rep({ id: 1 }), rep({ id: 2 })] }),
      actions: [],
    },
    {
      name: "ids continue after the highest existing id",
      w: world({ specs: [specRecord({ replicas: 2 })], replicas: [rep({ id: 7 })] }),
      actions: [launch(8)],
    },
    {
      name: "endpoint present → READY; READY without endpoint → NOT_READY",
      w: world({
        specs: [specRecord({ replicas: 2 })],
        replicas: [rep({ id: 1 }), rep({ id: 2, phase: "READY" })],
        endpoints: ["svc.1"],
      }),
      actions: [
        { type: "set_phase", key: "svc.1", phase: "READY" },
        { type: "set_phase", key: "svc.2", phase: "NOT_READY" },
      ],
    },
    {
      name: "yard-scale raises the target within max_replicas",
      w: world({
        specs: [specRecord({ replicas: 1, maxReplicas: 3 })],
        replicas: [rep({ id: 1 })],
        scale: { svc: 9 },
      }),
      actions: [launch(2), launch(3)],
    },
    {
      name: "scale down stops the least useful first (PENDING, then STARTING) and drops PENDING records",
      w: world({
        specs: [specRecord({ replicas: 1 })],
        replicas: [
          rep({ id: 1, phase: "READY" }),
          rep({ id: 2, phase: "STARTING" }),
          rep({ id: 3, phase: "PENDING", handle: null }),
        ],
        endpoints: ["svc.1"],
      }),
      actions: [
        { type: "drop", key: "svc.3" },
        { type: "terminate", key: "svc.2", reason: "ScaledDown" },
      ],
    },
    {
      name: "spec deleted: running replicas terminated, failed and pending records dropped",
      w: world({
        replicas: [
          rep({ id: 1, phase: "READY" }),
          rep({ id: 2, phase: "FAILED" }),
          rep({ id: 3, phase: "PENDING" }),
          rep({ id: 4, phase: "SHUTTING_DOWN" }),
        ],
      }),
      actions: [
        { type: "terminate", key: "svc.1", reason: "SpecDeleted" },
        { type: "drop", key: "svc.2" },
        { type: "drop", key: "svc.3" },
      ],
    },
    {
      name: "a failed replica is replaced (backoff over) and stays visible",
      w: world({
        specs: [specRecord({ replicas: 1 })],
        replicas: [rep({ id: 1, phase: "FAILED", reason: "ProcessExited" })],
        backoff: { svc: { failures: 1, lastFailureAt: NOW - 1_000 } },
      }),
      actions: [launch(2)],
    },
    {
      name: "during backoff: no launch, wake when it ends",
      w: world({
        specs: [specRecord({ replicas: 1 })],
        replicas: [rep({ id: 1, phase: "FAILED" })],
        backoff: { svc: { failures: 3, lastFailureAt: NOW - 1_000 } },
      }),
      actions: [{ type: "wake", at: NOW - 1_000 + 4_000 }],
    },
    {
      name: "only the last 3 failures of the current revision are kept; old-revision failures go",
      w: world({
        specs: [specRecord({ replicas: 1, revision: 2 })],
        replicas: [
          rep({ id: 1, phase: "FAILED", revision: 1 }),
          rep({ id: 2, phase: "FAILED", revision: 2 }),
          rep({ id: 3, phase: "FAILED_PROBING", revision: 2 }),
          rep({ id: 4, phase: "FAILED", revision: 2 }),
          rep({ id: 5, phase: "FAILED_INITIAL_DELAY", revision: 2 }),
          rep({ id: 6, phase: "READY", revision: 2 }),
        ],
        endpoints: ["svc.6"],
      }),
      actions: [
        { type: "drop", key: "svc.2" },
        { type: "drop", key: "svc.1" },
      ],
    },
    {
      name: "preempted replicas count as failures: the last 3 kept, each replaced",
      w: world({
        specs: [specRecord({ replicas: 1 })],
        replicas: [
          rep({ id: 1, phase: "PREEMPTED", reason: "Preempted" }),
          rep({ id: 2, phase: "PREEMPTED", reason: "Preempted" }),
          rep({ id: 3, phase: "FAILED" }),
          rep({ id: 4, phase: "PREEMPTED", reason: "Preempted" }),
        ],
      }),
      actions: [{ type: "drop", key: "svc.1" }, launch(5)],
    },
    {
      name: "rolling update: launch the new revision, keep old replicas while it is not ready",
      w: world({
        specs: [specRecord({ replicas: 1, revision: 2 })],
        replicas: [rep({ id: 1, phase: "READY" })],
        endpoints: ["svc.1"],
      }),
      actions: [launch(2, null, 2)],
    },
    {
      name: "rolling update: new revision READY → old replica terminated (SpecChanged)",
      w: world({
        specs: [specRecord({ replicas: 1, revision: 2 })],
        replicas: [rep({ id: 1, phase: "READY" }), rep({ id: 2, revision: 2, phase: "READY" })],
        endpoints: ["svc.1", "svc.2"],
      }),
      actions: [{ type: "terminate", key: "svc.1", reason: "SpecChanged", drain: true }],
    },
    {
      name: "only `service:` changed: replicas retagged in place, no relaunch",
      w: world({
        specs: [specRecord({ replicas: 1, revision: 2 })],
        replicas: [rep({ id: 1, phase: "READY" })],
        endpoints: ["svc.1"],
        sameLaunch: true,
      }),
      actions: [{ type: "retag", key: "svc.1", revision: 2 }],
    },
  ])("$name", ({ w, actions }) => {
    expect(reconcile(w)).toEqual(actions);
  });
});

describe("reconcile: drains, blue-green, yard down --replica-id", () => {
  const ready = (id: number, revision = 1, o: Partial<ReplicaRecord> = {}) =>
    rep({ id, revision, phase: "READY", first_ready_at: "2026-01-01T00:00:00.000Z", ...o });
  const bg = (revision: number, replicas = 2) => specRecord({ replicas, revision, updateMode: "blue_green" });
  const terminate = (id: number, reason: string, drain = true) => ({
    type: "terminate",
    key: `svc.${id}`,
    reason,
    ...(drain ? { drain: true } : {}),
  });

  it.each<{ name: string; w: World; actions: unknown[] }>([
    {
      name: "scale-down of a replica with an endpoint drains it; one without an endpoint stops at once",
      w: world({
        specs: [specRecord({ replicas: 1 })],
        replicas: [ready(1), ready(2)],
        endpoints: ["svc.1", "svc.2"],
      }),
      actions: [terminate(2, "ScaledDown")],
    },
    {
      name: "spec deleted: a routed replica drains, a starting one stops at once",
      w: world({ replicas: [ready(1), rep({ id: 2 })], endpoints: ["svc.1"] }),
      actions: [terminate(1, "SpecDeleted"), terminate(2, "SpecDeleted", false)],
    },
    {
      name: "a draining replica (SHUTTING_DOWN) is not active: its replacement launches",
      w: world({
        specs: [specRecord({ replicas: 1 })],
        replicas: [
          rep({ id: 1, phase: "SHUTTING_DOWN", drain: { since: "x", deadline: "y", in_flight: 2 } }),
        ],
      }),
      actions: [launch(2)],
    },
    {
      name: "blue-green: the new set launches whole beside the old one",
      w: world({ specs: [bg(2)], replicas: [ready(1), ready(2)], endpoints: ["svc.1", "svc.2"] }),
      actions: [launch(3, null, 2), launch(4, null, 2)],
    },
    {
      name: "blue-green: the new revision below min_replicas ready → the old set stays whole",
      w: world({
        specs: [bg(2)],
        replicas: [ready(1), ready(2), ready(3, 2), rep({ id: 4, revision: 2 })],
        endpoints: ["svc.1", "svc.2", "svc.3"],
      }),
      actions: [],
    },
    {
      name: "blue-green: min_replicas of the new revision ready → the whole old set drains",
      w: world({
        specs: [bg(2)],
        replicas: [ready(1), ready(2), ready(3, 2), rep({ id: 4, revision: 2 })],
        endpoints: ["svc.1", "svc.2", "svc.3", "svc.4"],
      }),
      actions: [
        { type: "set_phase", key: "svc.4", phase: "READY" },
        terminate(1, "SpecChanged"),
        terminate(2, "SpecChanged"),
      ],
    },
    {
      name: "blue-green: a newer revision replaces one that never took the traffic; that one goes at once",
      w: world({
        specs: [bg(3, 1)],
        replicas: [ready(1), ready(2, 2), rep({ id: 3, revision: 3 })],
        endpoints: ["svc.1"],
      }),
      actions: [{ type: "set_phase", key: "svc.2", phase: "NOT_READY" }, terminate(2, "SpecChanged", false)],
    },
    {
      name: "rolling (default): old ones drain one by one as new ones are ready",
      w: world({
        specs: [specRecord({ replicas: 2, revision: 2 })],
        replicas: [ready(1), ready(2), ready(3, 2), rep({ id: 4, revision: 2 })],
        endpoints: ["svc.1", "svc.2", "svc.3"],
      }),
      actions: [terminate(2, "SpecChanged")],
    },
    {
      name: "yard down --replica-id of a READY replica: its replacement launches, it serves meanwhile",
      w: world({
        specs: [specRecord({ replicas: 2 })],
        replicas: [ready(1), ready(2, 1, { retiring: true })],
        endpoints: ["svc.1", "svc.2"],
      }),
      actions: [launch(3)],
    },
    {
      name: "… its replacement ready → it drains (ReplicaDown)",
      w: world({
        specs: [specRecord({ replicas: 2 })],
        replicas: [ready(1), ready(2, 1, { retiring: true }), ready(3)],
        endpoints: ["svc.1", "svc.2", "svc.3"],
      }),
      actions: [terminate(2, "ReplicaDown")],
    },
    {
      name: "yard down --replica-id of a STARTING replica: stopped at once, replaced",
      w: world({
        specs: [specRecord({ replicas: 1 })],
        replicas: [rep({ id: 1, retiring: true })],
      }),
      actions: [launch(2), terminate(1, "ReplicaDown", false)],
    },
  ])("$name", ({ w, actions }) => {
    expect(reconcile(w)).toEqual(actions);
  });

  it("servingRevisions: what the proxies route to, by the spec's mode", () => {
    const reps = [ready(1), ready(2, 2), rep({ id: 3, revision: 2 })];
    expect(servingRevisions(specRecord({ revision: 2, replicas: 2 }), reps)).toEqual([1, 2]);
    expect(servingRevisions(bg(2), reps)).toEqual([1]);
    expect(servingRevisions(bg(2, 1), reps)).toEqual([2]);
  });
});

describe("reconcile with accelerators (YARD_GPUS)", () => {
  const cands = [
    { name: "L4", count: 1 },
    { name: "A100", count: 1 },
  ];
  it("L4:1 inventory, {L4:1, A100:1}, replicas 2 → one launch on GPU 0, one PENDING naming the inventory", () => {
    const w = world({ specs: [specRecord({ replicas: 2, accelerators: cands })], gpus: "L4:1" });
    expect(reconcile(w)).toEqual([
      launch(1, { name: "L4", count: 1, indices: [0] }),
      {
        type: "pend",
        service: "svc",
        id: 2,
        revision: 1,
        reason: "NoAcceleratorFree",
        message: "no free accelerator among {L4:1, A100:1}; inventory L4:1 (1 in use)",
      },
    ]);
  });

  it("a PENDING replica with the same message is left alone; it launches when a GPU frees", () => {
    const pending = rep({
      id: 2,
      phase: "PENDING",
      handle: null,
      reason: "NoAcceleratorFree",
      message: "no free accelerator among {L4:1, A100:1}; inventory L4:1 (1 in use)",
    });
    const busy = rep({ id: 1, accelerator: "L4", gpu_indices: [0] });
    const spec = specRecord({ replicas: 2, accelerators: cands });
    expect(reconcile(world({ specs: [spec], gpus: "L4:1", replicas: [busy, pending] }))).toEqual([]);
    const failed = { ...busy, phase: "FAILED" as const };
    const backoff = { svc: { failures: 1, lastFailureAt: NOW - 60_000 } };
    expect(reconcile(world({ specs: [spec], gpus: "L4:1", replicas: [failed, pending], backoff }))).toEqual([
      launch(2, { name: "L4", count: 1, indices: [0] }),
      {
        type: "pend",
        service: "svc",
        id: 3,
        revision: 1,
        reason: "NoAcceleratorFree",
        message: "no free accelerator among {L4:1, A100:1}; inventory L4:1 (1 in use)",
      },
    ]);
  });

  it("GPUs held by a replica that is shutting down are not given out", () => {
    const w = world({
      specs: [specRecord({ replicas: 1, accelerators: [{ name: "L4", count: 1 }] })],
      gpus: "L4:1",
      replicas: [rep({ id: 1, phase: "SHUTTING_DOWN", gpu_indices: [0], revision: 1 })],
    });
    expect(reconcile(w)).toMatchObject([{ type: "pend", id: 2 }]);
  });

  it("rolling update with a full inventory: the old replica gives its GPU up", () => {
    const w = world({
      specs: [specRecord({ replicas: 1, revision: 2, accelerators: [{ name: "L4", count: 1 }] })],
      gpus: "L4:1",
      replicas: [rep({ id: 1, phase: "READY", gpu_indices: [0], accelerator: "L4" })],
      endpoints: ["svc.1"],
    });
    expect(reconcile(w)).toMatchObject([
      { type: "pend", id: 2, revision: 2 },
      { type: "terminate", key: "svc.1", reason: "SpecChanged" },
    ]);
  });
});

describe("reconcile: a revision halted by an unrecoverable failure (SkyServe)", () => {
  const READY_AT = "2026-11-28T10:01:00.000Z";
  const broken = (id: number, o: Partial<ReplicaRecord> = {}) =>
    rep({
      id,
      phase: "FAILED",
      reason: "ProcessExited",
      message: "run exited with code 3",
      unrecoverable: true,
      url: null,
      ...o,
    });
  const halted = (id: number, revision = 1) => ({
    type: "halted",
    service: "svc",
    revision,
    key: `svc.${id}`,
  });
  const over = { svc: { failures: 1, lastFailureAt: NOW - 60_000 } };

  it.each<{ name: string; w: World; actions: unknown[] }>([
    {
      name: "the only replica failed before ready: nothing launches, no wake for the backoff",
      w: world({
        specs: [specRecord({ replicas: 1 })],
        replicas: [broken(1)],
        backoff: { svc: { failures: 1, lastFailureAt: NOW - 500 } },
      }),
      actions: [halted(1)],
    },
    {
      name: "min_replicas 3, one failed, two still starting: halted (they keep running, no third)",
      w: world({
        specs: [specRecord({ replicas: 3 })],
        replicas: [broken(1), rep({ id: 2 }), rep({ id: 3 })],
        backoff: over,
      }),
      actions: [halted(1)],
    },
    {
      name: "a replica waiting for a GPU is dropped, not launched",
      w: world({
        specs: [specRecord({ replicas: 2 })],
        replicas: [broken(1), rep({ id: 2, phase: "PENDING", handle: null, reason: "NoAcceleratorFree" })],
        backoff: over,
      }),
      actions: [{ type: "drop", key: "svc.2" }, halted(1)],
    },
    {
      name: "yard-scale asks for more: still nothing",
      w: world({
        specs: [specRecord({ replicas: 1, maxReplicas: 4 })],
        replicas: [broken(1)],
        scale: { svc: 4 },
        backoff: over,
      }),
      actions: [halted(1)],
    },
    {
      name: "scaled down while halted: the surplus still stops",
      w: world({
        specs: [specRecord({ replicas: 1 })],
        replicas: [broken(1), rep({ id: 2 }), rep({ id: 3 })],
      }),
      actions: [{ type: "terminate", key: "svc.3", reason: "ScaledDown" }, halted(1)],
    },
    {
      name: "another replica of the revision became ready: the halt lifts for good, the failed one is replaced",
      w: world({
        specs: [specRecord({ replicas: 2 })],
        replicas: [broken(1), rep({ id: 2 })],
        endpoints: ["svc.2"],
        backoff: over,
      }),
      actions: [
        { type: "set_phase", key: "svc.2", phase: "READY" },
        { type: "clear_halt", key: "svc.1" },
        launch(3),
      ],
    },
    {
      name: "a replica of the revision was ready once (now NOT_READY): not halted",
      w: world({
        specs: [specRecord({ replicas: 2 })],
        replicas: [broken(1), rep({ id: 2, phase: "NOT_READY", first_ready_at: READY_AT })],
        backoff: over,
      }),
      actions: [{ type: "clear_halt", key: "svc.1" }, launch(3)],
    },
    {
      name: "a failure after ready (not unrecoverable) is replaced as before",
      w: world({
        specs: [specRecord({ replicas: 1 })],
        replicas: [broken(1, { unrecoverable: false, first_ready_at: READY_AT })],
        backoff: over,
      }),
      actions: [launch(2)],
    },
    {
      name: "yard up with a changed spec (revision 2): the old failure goes, revision 2 launches",
      w: world({ specs: [specRecord({ replicas: 1, revision: 2 })], replicas: [broken(1)], backoff: over }),
      actions: [{ type: "drop", key: "svc.1" }, launch(2, null, 2)],
    },
    {
      name: "a broken update: the new revision is halted, the old replica keeps serving",
      w: world({
        specs: [specRecord({ replicas: 1, revision: 2 })],
        replicas: [rep({ id: 1, phase: "READY", first_ready_at: READY_AT }), broken(2, { revision: 2 })],
        endpoints: ["svc.1"],
        backoff: over,
      }),
      actions: [halted(2, 2)],
    },
    {
      name: "the halting failure stays kept behind 3 newer failures",
      w: world({
        specs: [specRecord({ replicas: 4 })],
        replicas: [
          broken(1),
          broken(2, { unrecoverable: false, reason: "PortInUse" }),
          broken(3, { unrecoverable: false, reason: "PortInUse" }),
          broken(4, { unrecoverable: false, reason: "PortInUse" }),
          broken(5, { unrecoverable: false, reason: "PortInUse" }),
        ],
        backoff: over,
      }),
      actions: [{ type: "drop", key: "svc.2" }, halted(1)],
    },
  ])("$name", ({ w, actions }) => {
    expect(reconcile(w)).toEqual(actions);
  });
});

describe("backoffDelayMs", () => {
  it.each([
    [0, 0],
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [6, 32_000],
    [7, 60_000],
    [50, 60_000],
  ])("%i failures → %i ms", (n, ms) => {
    expect(backoffDelayMs(n)).toBe(ms);
  });
});
