import type { ReplicaPhase } from "@switchyard/contracts";
import { endpointRecord, replicaRecord, specRecord } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import {
  effectivePhase,
  replicasTable,
  type ServiceStatus,
  serviceRows,
  serviceStatus,
  servicesTable,
} from "./status-view.js";

describe("serviceStatus (SkyServe from_replica_statuses)", () => {
  it.each<{ name: string; phases: ReplicaPhase[]; want: ServiceStatus }>([
    { name: "no replica", phases: [], want: "NO_REPLICA" },
    { name: "any READY wins over failures", phases: ["FAILED_PROBING", "READY"], want: "READY" },
    { name: "a failed replica and none ready", phases: ["STARTING", "FAILED_INITIAL_DELAY"], want: "FAILED" },
    { name: "UNKNOWN counts as failed", phases: ["UNKNOWN"], want: "FAILED" },
    { name: "starting up", phases: ["PENDING", "PROVISIONING", "STARTING"], want: "REPLICA_INIT" },
    { name: "not ready any more", phases: ["NOT_READY"], want: "REPLICA_INIT" },
    { name: "shutting down", phases: ["SHUTTING_DOWN"], want: "REPLICA_INIT" },
  ])("$name → $want", ({ phases, want }) => {
    expect(serviceStatus(phases)).toBe(want);
  });
});

describe("effectivePhase", () => {
  const eps = new Set(["llm.1"]);
  it.each<{ name: string; phase: ReplicaPhase; id: number; want: ReplicaPhase }>([
    {
      name: "endpoint present before the provisioner recorded READY",
      phase: "STARTING",
      id: 1,
      want: "READY",
    },
    { name: "no endpoint keeps the phase", phase: "STARTING", id: 2, want: "STARTING" },
    { name: "shutting down stays so", phase: "SHUTTING_DOWN", id: 1, want: "SHUTTING_DOWN" },
    { name: "failed stays failed", phase: "FAILED_PROBING", id: 1, want: "FAILED_PROBING" },
  ])("$name", ({ phase, id, want }) => {
    expect(effectivePhase(replicaRecord({ service: "llm", id, phase }), eps)).toBe(want);
  });
});

describe("serviceRows and tables", () => {
  const specs = [
    specRecord({ name: "llm", revision: 3 }),
    specRecord({ name: "idle", revision: 1, lb: "round_robin" }),
  ];
  const replicas = [
    replicaRecord({
      service: "llm",
      id: 1,
      phase: "READY",
      revision: 3,
      url: "http://127.0.0.1:8001",
      accelerator: "L4",
      accelerator_count: 1,
    }),
    replicaRecord({ service: "llm", id: 2, phase: "STARTING", revision: 3, url: "http://127.0.0.1:8002" }),
    replicaRecord({
      service: "llm",
      id: 3,
      phase: "FAILED_INITIAL_DELAY",
      revision: 2,
      url: null,
      reason: "InitialDelayExceeded",
      message: "no probe passed within 1200 s: last probe got HTTP 401 Unauthorized from GET /v1/models",
    }),
  ];
  const rows = serviceRows(
    specs,
    replicas,
    [endpointRecord({ service: "llm", replica_id: 1, revision: 3 })],
    (n) => `http://${n}.localhost:8080`,
  );

  it("derives status and counts ready/total (failed replicas not counted in total)", () => {
    expect(rows.map((r) => [r.name, r.status, r.ready, r.total])).toEqual([
      ["llm", "READY", 1, 2],
      ["idle", "NO_REPLICA", 0, 0],
    ]);
  });

  it("prints the services table", () => {
    expect(servicesTable(rows).split("\n")).toEqual([
      "NAME  REVISION  STATUS      REPLICAS  ENDPOINT                    LB_POLICY",
      "llm   3         READY       1/2       http://llm.localhost:8080   least_load",
      "idle  1         NO_REPLICA  0/0       http://idle.localhost:8080  round_robin",
    ]);
  });

  it("prints the replicas table with accelerator and a truncated reason", () => {
    const lines = replicasTable(
      replicas,
      [endpointRecord({ service: "llm", replica_id: 1, revision: 3 })],
      40,
    ).split("\n");
    expect(lines[0]).toMatch(/^SERVICE\s+ID\s+REVISION\s+PHASE\s+ENDPOINT\s+ACCELERATOR\s+REASON$/);
    expect(lines[1]).toMatch(/^llm\s+1\s+3\s+READY\s+http:\/\/127\.0\.0\.1:8001\s+L4\s+-$/);
    expect(lines[2]).toMatch(/^llm\s+2\s+3\s+STARTING\s+http:\/\/127\.0\.0\.1:8002\s+-\s+-$/);
    expect(lines[3]).toMatch(
      /^llm\s+3\s+2\s+FAILED_INITIAL_DELAY\s+-\s+-\s+InitialDelayExceeded: no probe passed w…$/,
    );
  });
});
