import { replicaRecord as rep } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import type { FoundReplica } from "./backends/backend.js";
import { planRecovery } from "./recovery.js";

const found = (id: number, running: boolean, service = "svc"): FoundReplica => ({
  service,
  id,
  handle: String(1000 + id),
  running,
  runStarted: true,
});

describe("planRecovery", () => {
  it.each([
    {
      name: "running record with a live process → adopt",
      records: [rep({ id: 1, phase: "READY" })],
      found: [found(1, true)],
      plan: [{ type: "adopt", key: "svc.1", found: found(1, true) }],
    },
    {
      name: "running record whose process died → fail (then replaced)",
      records: [rep({ id: 1, phase: "STARTING" })],
      found: [found(1, false)],
      plan: [
        {
          type: "fail",
          key: "svc.1",
          reason: "ProcessExited",
          message: "the replica's processes were gone when the provisioner started",
        },
      ],
    },
    {
      name: "running record with no state file at all → fail",
      records: [rep({ id: 1, phase: "PROVISIONING" })],
      found: [],
      plan: [{ type: "fail", key: "svc.1" }],
    },
    {
      name: "being stopped → finish stopping",
      records: [rep({ id: 1, phase: "SHUTTING_DOWN" })],
      found: [found(1, true)],
      plan: [{ type: "terminate", key: "svc.1" }],
    },
    {
      name: "process without a record (crash between spawn and write) → kill: no orphan",
      records: [],
      found: [found(4, true, "other")],
      plan: [{ type: "kill", service: "other", id: 4, handle: "1004" }],
    },
    {
      name: "failed record whose process still runs → kill, record kept",
      records: [rep({ id: 2, phase: "FAILED" })],
      found: [found(2, true)],
      plan: [{ type: "kill", service: "svc", id: 2, handle: "1002" }],
    },
    {
      name: "dead leftovers and settled records → nothing",
      records: [rep({ id: 2, phase: "FAILED" }), rep({ id: 3, phase: "PENDING", handle: null })],
      found: [found(2, false), found(9, false)],
      plan: [],
    },
  ] as const)("$name", ({ records, found, plan }) => {
    expect(planRecovery(records, found)).toMatchObject(plan);
    expect(planRecovery(records, found)).toHaveLength(plan.length);
  });
});
