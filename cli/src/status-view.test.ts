import type { ReplicaPhase } from "@switchyard/contracts";
import { endpointRecord, replicaRecord, specRecord } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import {
  effectivePhase,
  haltNotes,
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
      "NAME  REVISION  VERSION  STATUS      REPLICAS  ENDPOINT                    LB_POLICY",
      "llm   3         3        READY       1/2       http://llm.localhost:8080   least_load",
      "idle  1         -        NO_REPLICA  0/0       http://idle.localhost:8080  round_robin",
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

describe("updates and drains in yard status", () => {
  const ready = (id: number, revision: number) =>
    replicaRecord({ service: "llm", id, revision, phase: "READY", url: `http://127.0.0.1:800${id}` });
  const eps = (...ids: [number, number][]) =>
    ids.map(([replica_id, revision]) => endpointRecord({ service: "llm", replica_id, revision }));
  const url = (n: string) => `http://${n}.localhost:8080`;

  it("VERSION: both revisions while a rolling update runs; the old one alone before a blue-green switch", () => {
    const replicas = [ready(1, 1), ready(2, 1), ready(3, 2)];
    const endpoints = eps([1, 1], [2, 1], [3, 2]);
    const rolling = specRecord({ name: "llm", revision: 2, replicas: 2 });
    const blueGreen = specRecord({ name: "llm", revision: 2, replicas: 2, updateMode: "blue_green" });
    expect(serviceRows([rolling], replicas, endpoints, url)[0].versions).toEqual([1, 2]);
    expect(serviceRows([blueGreen], replicas, endpoints, url)[0].versions).toEqual([1]);
    const switched = [...replicas, ready(4, 2)];
    expect(serviceRows([blueGreen], switched, [...endpoints, ...eps([4, 2])], url)[0].versions).toEqual([2]);
  });

  it("a draining replica shows as DRAINING with its requests in flight and the time left", () => {
    const draining = replicaRecord({
      service: "llm",
      id: 1,
      phase: "SHUTTING_DOWN",
      reason: "SpecChanged",
      message: "replaced by revision 2",
      drain: { since: "2026-01-01T00:00:00.000Z", deadline: "2026-01-01T00:02:00.000Z", in_flight: 3 },
    });
    const lines = replicasTable([draining], eps([1, 1]), 80, Date.parse("2026-01-01T00:00:30.000Z")).split(
      "\n",
    );
    expect(lines[1]).toMatch(
      /^llm\s+1\s+1\s+DRAINING\s+\S+\s+-\s+3 in flight, SIGTERM within 90s \(SpecChanged: replaced by revision 2\)$/,
    );
    const rows = serviceRows([specRecord({ name: "llm", revision: 2 })], [draining], eps([1, 1]), url);
    expect(rows[0]).toMatchObject({ versions: [], ready: 0 });
  });
});

describe("a halted service (a failure before any replica of its revision was ready)", () => {
  const spec = specRecord({ name: "bad", revision: 2, replicas: 2 });
  const url = (n: string) => `http://${n}.localhost:8080`;
  const failed = replicaRecord({
    service: "bad",
    id: 3,
    revision: 2,
    phase: "FAILED",
    url: null,
    reason: "ProcessExited",
    message: "run exited with code 3",
    unrecoverable: true,
    log_tail: ["loading model ***", "Error: no such file"],
  });
  const starting = replicaRecord({ service: "bad", id: 4, revision: 2, phase: "STARTING" });

  it("shows FAILED with the failure, its log lines and what lifts it (--json has them too)", () => {
    const [row] = serviceRows([spec], [failed, starting], [], url);
    expect(row.status).toBe("FAILED");
    expect(row.halted).toEqual({
      replica_id: 3,
      revision: 2,
      reason: "ProcessExited",
      message: "run exited with code 3",
      log_tail: ["loading model ***", "Error: no such file"],
      summary:
        "replica 3 of revision 2 failed before any replica of that revision was ready " +
        "(ProcessExited: run exited with code 3); nothing new launches until the spec changes (yard up)",
    });
    expect(haltNotes([row]).split("\n")).toEqual([
      `Service bad is halted: ${row.halted!.summary}.`,
      "Last log lines of replica 3:",
      "  loading model ***",
      "  Error: no such file",
    ]);
  });

  it("the prober's endpoint for another replica lifts it before the provisioner records READY", () => {
    const [row] = serviceRows(
      [spec],
      [failed, starting],
      [endpointRecord({ service: "bad", replica_id: 4 })],
      url,
    );
    expect(row).toMatchObject({ status: "READY", halted: null });
    expect(haltNotes([row])).toBe("");
  });

  it("an older revision's failure does not halt the current one", () => {
    const [row] = serviceRows([{ ...spec, revision: 3 }], [failed], [], url);
    expect(row.halted).toBeNull();
  });

  it("a failure after ready (not unrecoverable) is no halt", () => {
    const [row] = serviceRows([spec], [{ ...failed, unrecoverable: false }], [], url);
    expect(row).toMatchObject({ status: "FAILED", halted: null });
  });

  it("no log lines: says where to look", () => {
    const [row] = serviceRows([spec], [{ ...failed, log_tail: [] }], [], url);
    expect(haltNotes([row]).split("\n")[1]).toBe("Replica 3 left no log lines (pnpm yard logs bad 3).");
  });
});
