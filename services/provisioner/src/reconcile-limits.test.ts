import type { ReplicaRecord, SpecRecord } from "@switchyard/contracts";
import { replicaRecord as rep, specRecord } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import { parseGpuList } from "./inventory.js";
import { type Action, type Limits, launchBudget, reconcile, type World } from "./reconcile.js";

const NOW = 1_000_000;

function world(o: { specs: SpecRecord[]; replicas?: ReplicaRecord[]; gpus?: string; limits: Limits }): World {
  return {
    now: NOW,
    specs: new Map(o.specs.map((s) => [s.name, s])),
    scale: new Map(),
    replicas: o.replicas ?? [],
    endpoints: new Set(),
    inventory: parseGpuList(o.gpus ?? ""),
    backoff: new Map(),
    nextId: new Map(),
    sameLaunch: () => false,
    limits: o.limits,
  };
}

const open = (maxReplicas: number, launchBudget = 1_000): Limits => ({
  maxReplicas,
  launchBudget,
  nextLaunchAt: NOW + 1_000,
});
const count = (as: Action[], type: Action["type"], service?: string) =>
  as.filter((a) => a.type === type && (!service || ("service" in a && a.service === service))).length;
const holds = (as: Action[]) =>
  as.flatMap((a) => (a.type === "hold" ? [{ service: a.service, waiting: a.waiting, cause: a.cause }] : []));

describe("launchBudget: at most N launches in any window", () => {
  it.each([
    { name: "none yet: once spent now, it grows in an interval", recent: [], budget: 8, nextAt: NOW + 1_000 },
    { name: "3 in the window", recent: [NOW - 10, NOW - 5, NOW], budget: 5, nextAt: NOW + 990 },
    {
      name: "old launches have left the window",
      recent: [NOW - 2_000, NOW - 1_000],
      budget: 8,
      nextAt: NOW + 1_000,
    },
    {
      name: "window full: the next is allowed when the oldest leaves",
      recent: [NOW - 900, ...Array.from({ length: 7 }, () => NOW - 100)],
      budget: 0,
      nextAt: NOW + 100,
    },
  ])("$name", ({ recent, budget, nextAt }) => {
    expect(launchBudget(recent, NOW, 8, 1_000)).toEqual({ budget, nextAt });
  });
});

describe("reconcile under YARD_MAX_REPLICAS and launch pacing", () => {
  it("a spec over the total cap launches up to it; the rest wait, said in a hold", () => {
    const as = reconcile(world({ specs: [specRecord({ replicas: 10 })], limits: open(4) }));
    expect(count(as, "launch")).toBe(4);
    expect(as.find((a) => a.type === "hold")).toEqual({
      type: "hold",
      service: "svc",
      waiting: 6,
      cause: "max_replicas",
      message: "6 replica(s) wait: 4 replicas exist across all services (YARD_MAX_REPLICAS)",
    });
  });

  it("replicas: 1000000 written straight into yard-specs: bounded work, no million records", () => {
    const t0 = Date.now();
    const as = reconcile(world({ specs: [specRecord({ replicas: 1_000_000 })], limits: open(256, 8) }));
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(count(as, "launch")).toBe(8);
    expect(count(as, "pend")).toBe(0);
    expect(holds(as)).toEqual([{ service: "svc", waiting: 999_992, cause: "paced" }]);
  });

  it("the cap is shared across services in name order; every phase that may hold a process counts", () => {
    const as = reconcile(
      world({
        specs: [specRecord({ name: "a", replicas: 3 }), specRecord({ name: "b", replicas: 3 })],
        replicas: [
          rep({ service: "a", id: 1, phase: "READY" }),
          rep({ service: "a", id: 2, phase: "PENDING" }),
          rep({ service: "z", id: 1, phase: "SHUTTING_DOWN" }), // no spec: being stopped
          rep({ service: "b", id: 1, phase: "FAILED" }), // no process: does not count
        ],
        limits: open(5),
      }),
    );
    // 3 counted; a needs 1 more (→ 4), b gets 1 (→ 5) and 2 wait.
    expect(count(as, "launch", "a")).toBe(2); // its PENDING one and one new
    expect(count(as, "launch", "b")).toBe(1);
    expect(holds(as)).toEqual([{ service: "b", waiting: 2, cause: "max_replicas" }]);
  });

  it("paced: the budget is spent in name order, and a wake comes when it grows", () => {
    const limits = { maxReplicas: 100, launchBudget: 3, nextLaunchAt: NOW + 400 };
    const as = reconcile(
      world({
        specs: [specRecord({ name: "a", replicas: 2 }), specRecord({ name: "b", replicas: 4 })],
        limits,
      }),
    );
    expect([count(as, "launch", "a"), count(as, "launch", "b")]).toEqual([2, 1]);
    expect(holds(as)).toEqual([{ service: "b", waiting: 3, cause: "paced" }]);
    expect(as).toContainEqual({ type: "wake", at: NOW + 400 });
  });

  it("no GPU free: PENDING records only up to the cap", () => {
    const as = reconcile(
      world({
        specs: [specRecord({ replicas: 50, accelerators: [{ name: "L4", count: 1 }] })],
        gpus: "L4:1",
        limits: open(5),
      }),
    );
    expect([count(as, "launch"), count(as, "pend")]).toEqual([1, 4]);
    expect(holds(as)).toEqual([{ service: "svc", waiting: 45, cause: "max_replicas" }]);
  });

  it("rolling update at the cap: old replicas give their places up instead of waiting forever", () => {
    const as = reconcile(
      world({
        specs: [specRecord({ replicas: 2, revision: 2 })],
        replicas: [rep({ id: 1, phase: "READY" }), rep({ id: 2, phase: "READY" })],
        limits: open(2),
      }),
    );
    expect(count(as, "launch")).toBe(0);
    expect(as.filter((a) => a.type === "terminate")).toEqual([
      { type: "terminate", key: "svc.2", reason: "SpecChanged" },
      { type: "terminate", key: "svc.1", reason: "SpecChanged" },
    ]);
  });

  it("within the limits nothing is held", () => {
    const as = reconcile(world({ specs: [specRecord({ replicas: 3 })], limits: open(256, 8) }));
    expect(count(as, "launch")).toBe(3);
    expect(holds(as)).toEqual([]);
  });
});
