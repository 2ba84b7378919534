import type { EndpointRecord, ReplicaPhase, ReplicaRecord, SpecRecord } from "@switchyard/contracts";

/** Small record builders for the table tests (only the fields a test cares about vary). */
export function replica(
  service: string,
  id: number,
  phase: ReplicaPhase,
  more: Partial<ReplicaRecord> = {},
): ReplicaRecord {
  return {
    schema: 1,
    service,
    id,
    revision: 1,
    phase,
    backend: "local",
    url: null,
    port: null,
    accelerator: null,
    accelerator_count: null,
    gpu_indices: [],
    pid: null,
    host: "127.0.0.1",
    reason: null,
    message: null,
    launched_at: null,
    updated_at: "2026-01-01T00:00:00.000Z",
    first_ready_at: null,
    ...more,
  };
}

export function endpoint(service: string, id: number, revision = 1): EndpointRecord {
  return {
    schema: 1,
    service,
    replica_id: id,
    url: `http://127.0.0.1:${8000 + id}`,
    revision,
    accelerator: null,
    ready_at: "2026-01-01T00:00:00.000Z",
  };
}

export function specRecord(name: string, revision: number, lb = "least_load"): SpecRecord {
  return {
    schema: 1,
    name,
    revision,
    digest: "d",
    applied_at: "2026-01-01T00:00:00.000Z",
    spec: { service: { load_balancing_policy: lb } } as unknown as SpecRecord["spec"],
  };
}
