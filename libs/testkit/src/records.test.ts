import {
  EndpointRecord,
  fixedReplicaPolicy,
  ReplicaRecord,
  ResolvedSpec,
  routeOf,
  ScaleRecord,
  ServiceRoute,
  SpecRecord,
} from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import {
  endpointRecord,
  replicaRecord,
  resolvedSpec,
  routeRecord,
  scaleRecord,
  specRecord,
} from "./records.js";

describe("record builders", () => {
  it.each([
    { name: "resolvedSpec", schema: ResolvedSpec, build: () => resolvedSpec() },
    { name: "specRecord", schema: SpecRecord, build: () => specRecord() },
    { name: "routeRecord", schema: ServiceRoute, build: () => routeRecord() },
    { name: "replicaRecord", schema: ReplicaRecord, build: () => replicaRecord() },
    { name: "endpointRecord", schema: EndpointRecord, build: () => endpointRecord() },
    { name: "scaleRecord", schema: ScaleRecord, build: () => scaleRecord() },
  ])("$name's defaults are a record its schema accepts unchanged", ({ schema, build }) => {
    const rec = build();
    expect(schema.strict().parse(rec)).toEqual(rec);
  });

  it.each([
    {
      name: "spec knobs",
      got: specRecord({
        name: "llm",
        revision: 3,
        replicas: 2,
        maxReplicas: 5,
        port: 9000,
        lb: "round_robin",
      }),
      want: {
        name: "llm",
        revision: 3,
        spec: {
          name: "llm",
          resources: { ports: [9000] },
          service: {
            port: 9000,
            load_balancing_policy: "round_robin",
            replica_policy: { ...fixedReplicaPolicy(2), max_replicas: 5 },
          },
        },
      },
    },
    {
      name: "probe overrides keep the other probe fields",
      got: specRecord({ probe: { path: "/health", headers: { Authorization: "Bearer k" } } }).spec.service,
      want: {
        readiness_probe: { path: "/health", headers: { Authorization: "Bearer k" }, timeout_seconds: 15 },
      },
    },
    {
      name: "a given resolved spec is stored as is, under its name",
      got: specRecord({ spec: resolvedSpec({ name: "given", run: null }), revision: 2, name: "ignored" }),
      want: { name: "given", revision: 2, spec: { name: "given", run: null } },
    },
    {
      name: "route overrides",
      got: routeRecord({
        name: "llm",
        load_balancing_policy: "instance_aware_least_load",
        target_qps_per_replica: 2,
      }),
      want: { name: "llm", load_balancing_policy: "instance_aware_least_load", target_qps_per_replica: 2 },
    },
    {
      name: "a route agrees with the spec it is derived from",
      got: routeRecord({ name: "llm" }),
      want: routeOf(specRecord({ name: "llm" })),
    },
    {
      name: "replica: the url follows the id and the port follows the url",
      got: replicaRecord({ service: "llm", id: 3, phase: "READY" }),
      want: { service: "llm", id: 3, phase: "READY", url: "http://127.0.0.1:8003", port: 8003 },
    },
    {
      name: "replica: a given url sets the port; an explicit port wins",
      got: [replicaRecord({ url: "http://h:41" }), replicaRecord({ url: "http://h:41", port: 7 })],
      want: [{ url: "http://h:41", port: 41 }, { port: 7 }],
    },
    {
      name: "replica: not launched yet",
      got: replicaRecord({ phase: "PENDING", url: null, launched_at: null }),
      want: { phase: "PENDING", url: null, port: null, handle: null, launched_at: null },
    },
    {
      name: "endpoint: the url follows the replica id",
      got: endpointRecord({ service: "llm", replica_id: 2, revision: 4, accelerator: "L4" }),
      want: { service: "llm", replica_id: 2, url: "http://127.0.0.1:8002", revision: 4, accelerator: "L4" },
    },
    {
      name: "scale overrides",
      got: scaleRecord({ service: "llm", target_replicas: 0 }),
      want: { service: "llm", target_replicas: 0 },
    },
  ])("$name", ({ got, want }) => {
    expect(got).toMatchObject(want);
  });

  it.each([
    { name: "a service name that is no DNS label", build: () => replicaRecord({ service: "Bad.Name" }) },
    { name: "replica id 0", build: () => endpointRecord({ replica_id: 0 }) },
    { name: "a negative target", build: () => scaleRecord({ target_replicas: -1 }) },
    { name: "a probe path without /", build: () => specRecord({ probe: { path: "health" } }) },
    { name: "an unknown LB policy", build: () => routeRecord({ load_balancing_policy: "random" as never }) },
  ])("throws at build time on an invalid record: $name", ({ build }) => {
    expect(build).toThrow(/testkit built an invalid/);
  });
});
