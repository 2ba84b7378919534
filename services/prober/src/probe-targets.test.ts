import type { ReadinessProbe, ReplicaPhase, ReplicaRecord, SpecRecord } from "@switchyard/contracts";
import { replicaRecord, specRecord } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import {
  endpointOf,
  missingRevisions,
  type ProbeBook,
  probeUrl,
  rememberSpec,
  targetOf,
  verdictConfig,
} from "./probe-targets.js";

const probe = (path: string, post_data: unknown = null): ReadinessProbe => ({
  path,
  post_data,
  initial_delay_seconds: 60,
  timeout_seconds: 5,
  headers: { Authorization: "Bearer K" },
});

const spec = (revision: number, probe: ReadinessProbe) => specRecord({ name: "llm", revision, probe });

const replica = (over: Partial<ReplicaRecord> = {}) =>
  replicaRecord({
    service: "llm",
    id: 3,
    revision: 2,
    url: "http://127.0.0.1:8001",
    accelerator: "L4",
    handle: "42",
    launched_at: "2026-11-28T10:00:00.000Z",
    updated_at: "2026-11-28T10:00:00.000Z",
    ...over,
  });

function book(...specs: SpecRecord[]): ProbeBook {
  const b: ProbeBook = new Map();
  for (const s of specs) rememberSpec(b, s);
  return b;
}

describe("targetOf", () => {
  const b = book(spec(1, probe("/old")), spec(2, probe("/v1/models")));
  it.each<[string, ReplicaPhase, string | null, boolean]>([
    ["STARTING with url", "STARTING", "http://h:1", true],
    ["READY", "READY", "http://h:1", true],
    ["NOT_READY", "NOT_READY", "http://h:1", true],
    ["STARTING without url", "STARTING", null, false],
    ["PENDING", "PENDING", null, false],
    ["PROVISIONING", "PROVISIONING", "http://h:1", false],
    ["SHUTTING_DOWN", "SHUTTING_DOWN", "http://h:1", false],
    ["FAILED_INITIAL_DELAY", "FAILED_INITIAL_DELAY", "http://h:1", false],
    ["FAILED_PROBING", "FAILED_PROBING", "http://h:1", false],
  ])("%s → probed: %s", (_n, phase, url, probed) => {
    expect(targetOf("llm.3", replica({ phase, url }), b).target !== null).toBe(probed);
  });

  it("deleted replica → not probed", () => {
    expect(targetOf("llm.3", undefined, b)).toEqual({ target: null, why: "not-probed" });
  });

  it("no spec seen for the service → not probed, says why", () => {
    expect(targetOf("llm.3", replica(), book())).toEqual({ target: null, why: "no-spec" });
  });

  it("uses the probe of the replica's own revision", () => {
    const r = targetOf("llm.3", replica({ revision: 1 }), b);
    expect(r.target?.probe.path).toBe("/old");
    expect(r.target && r.note).toBeNull();
  });

  it("falls back to the latest spec's probe for an unseen revision, with a note", () => {
    const r = targetOf("llm.3", replica({ revision: 1 }), book(spec(4, probe("/v1/models"))));
    expect(r.target?.probe.path).toBe("/v1/models");
    expect(r.target && r.note).toBe("probe of revision 1 unknown; using revision 4's");
  });

  it("identity changes with url or launch, not with phase, revision (a retag) or other bookkeeping", () => {
    const id = (o: Partial<ReplicaRecord>) => targetOf("llm.3", replica(o), b).target?.identity;
    expect(id({ phase: "READY", first_ready_at: "2026-11-28T10:01:00.000Z" })).toBe(id({}));
    expect(id({ updated_at: "2026-11-28T11:00:00.000Z" })).toBe(id({}));
    expect(id({ url: "http://127.0.0.1:9" })).not.toBe(id({}));
    expect(id({ launched_at: "2026-11-28T12:00:00.000Z" })).not.toBe(id({}));
    expect(id({ revision: 1 })).toBe(id({}));
  });
});

describe("older revisions from the spec's KV history", () => {
  it("are added without moving the latest, and never overwrite what the watch gave", () => {
    const b = book(spec(3, probe("/v3")));
    rememberSpec(b, spec(1, probe("/v1")), false);
    rememberSpec(b, spec(3, probe("/stale")), false);
    expect(b.get("llm")?.latest).toBe(3);
    expect(targetOf("llm.3", replica({ revision: 1 }), b).target?.probe.path).toBe("/v1");
    expect(targetOf("llm.3", replica({ revision: 3 }), b).target?.probe.path).toBe("/v3");
  });

  it.each([
    ["all revisions known", [2], []],
    ["a replica of an unknown revision", [1, 2], ["llm"]],
  ])("missingRevisions: %s", (_n, revs, want) => {
    const b = book(spec(2, probe("/v")));
    const rs = revs.map((revision) => replica({ revision }));
    expect([...missingRevisions(b, rs)]).toEqual(want);
  });
});

describe("verdictConfig", () => {
  it.each([
    ["no post_data → GET", null, "GET"],
    ["post_data → POST", { prompt: "hi" }, "POST"],
  ])("%s", (_n, post, method) => {
    const t = targetOf("llm.3", replica(), book(spec(2, probe("/p", post)))).target!;
    expect(verdictConfig(t, 1000)).toEqual({
      method,
      path: "/p",
      initialDelaySeconds: 60,
      failureThresholdMs: 1000,
    });
  });
});

describe("probeUrl", () => {
  it.each([
    ["http://127.0.0.1:8000", "/v1/models", "http://127.0.0.1:8000/v1/models"],
    ["http://127.0.0.1:8000/", "/health", "http://127.0.0.1:8000/health"],
    ["127.0.0.1:8000", "/health", "http://127.0.0.1:8000/health"],
    ["https://h.example", "/x", "https://h.example/x"],
  ])("%s + %s", (base, path, want) => expect(probeUrl(base, path)).toBe(want));
});

describe("endpointOf", () => {
  it("carries url, service, replica id, revision and accelerator", () => {
    const t = targetOf("llm.3", replica(), book(spec(2, probe("/v1/models")))).target!;
    expect(endpointOf(t, new Date("2026-11-28T10:00:05.000Z"))).toEqual({
      schema: 1,
      service: "llm",
      replica_id: 3,
      url: "http://127.0.0.1:8001",
      revision: 2,
      accelerator: "L4",
      ready_at: "2026-11-28T10:00:05.000Z",
      draining: false,
    });
  });
});
