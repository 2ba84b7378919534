import { replicaRecord as rep } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import type { FoundReplica } from "./backends/backend.js";
import type { ExitInfo } from "./exit-reason.js";
import { planRecovery } from "./recovery.js";

/** A replica whose processes are gone, with what its dir tells about how it ended. */
const gone = (info: Pick<FoundReplica, "stoppedBy" | "exit">): FoundReplica => ({
  service: "svc",
  id: 1,
  handle: "1001",
  running: false,
  runStarted: true,
  ...info,
});
const exit = (o: Partial<ExitInfo>): ExitInfo => ({ stage: "run", code: 0, logTail: "", port: 8000, ...o });

describe("planRecovery: the true story of a replica found gone", () => {
  it.each([
    {
      name: "the provisioner stopped it, the record never said so (NATS away) → finish the stop",
      info: { stoppedBy: "provisioner", exit: exit({ code: 0 }) },
      plan: {
        type: "terminate",
        key: "svc.1",
        message: "stopped by the provisioner before its record reached the bus",
      },
    },
    {
      name: "pnpm start stopped it while the provisioner was dead → finish the stop",
      info: { stoppedBy: "pnpm start", exit: exit({ stage: "unknown", code: null }) },
      plan: {
        type: "terminate",
        key: "svc.1",
        message: "stopped by pnpm start while the provisioner was down",
      },
    },
    {
      name: "its run exited by itself → the failure its status means",
      info: { stoppedBy: null, exit: exit({ code: 137 }) },
      plan: {
        type: "fail",
        key: "svc.1",
        reason: "ProcessExited",
        message: "run exited with code 137 (killed by SIGKILL)",
      },
    },
    {
      name: "its setup failed → SetupFailed",
      info: { stoppedBy: null, exit: exit({ stage: "setup", code: 2 }) },
      plan: { type: "fail", reason: "SetupFailed", message: "setup exited with code 2" },
    },
    {
      name: "its port was taken → PortInUse",
      info: { exit: exit({ code: 1, logTail: "Error: listen EADDRINUSE: address already in use" }) },
      plan: { type: "fail", reason: "PortInUse" },
    },
    {
      name: "killed with its runner, no status → gone when the provisioner started",
      info: { stoppedBy: null, exit: exit({ stage: "unknown", code: null }) },
      plan: {
        type: "fail",
        reason: "ProcessExited",
        message: "the replica's processes were gone when the provisioner started",
      },
    },
  ] as const)("$name", ({ info, plan }) => {
    const steps = planRecovery([rep({ id: 1, phase: "READY" })], [gone(info)]);
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject(plan);
  });

  it("a settled record (FAILED) stays as it is whatever the dir says", () => {
    const steps = planRecovery([rep({ id: 1, phase: "FAILED" })], [gone({ stoppedBy: "provisioner" })]);
    expect(steps).toEqual([]);
  });
});
