import {
  EndpointRecord,
  fixedReplicaPolicy,
  type ReadinessProbe,
  type ReplicaPhase,
  ReplicaRecord,
  SpecRecord,
} from "@switchyard/contracts";

/** A SpecRecord as the spec service would store it, validated by the contracts schema. */
export function specRecord(name: string, revision: number, probe: Partial<ReadinessProbe> = {}): SpecRecord {
  return SpecRecord.parse({
    schema: 1,
    name,
    revision,
    digest: `sha256-${name}-${revision}`,
    applied_at: new Date().toISOString(),
    spec: {
      schema: 1,
      name,
      envs: {},
      secret_names: [],
      resources: { accelerators: [], ports: [8000], other: {} },
      setup: null,
      run: "fake-openai-engine --port $YARD_REPLICA_PORT",
      workdir: null,
      service: {
        readiness_probe: {
          path: "/v1/models",
          post_data: null,
          initial_delay_seconds: 60,
          timeout_seconds: 5,
          headers: {},
          ...probe,
        },
        replica_policy: fixedReplicaPolicy(1),
        load_balancing_policy: "least_load",
        port: 8000,
        tls: null,
      },
      ignored_keys: [],
      warnings: [],
    },
  });
}

/** A ReplicaRecord as the provisioner would store it. */
export function replicaRecord(
  service: string,
  id: number,
  url: string | null,
  over: Partial<ReplicaRecord> & { phase?: ReplicaPhase } = {},
): ReplicaRecord {
  const now = new Date().toISOString();
  return ReplicaRecord.parse({
    schema: 1,
    service,
    id,
    revision: 1,
    phase: "STARTING",
    backend: "local",
    url,
    port: url ? Number(new URL(url).port) : null,
    accelerator: null,
    pid: null,
    host: "127.0.0.1",
    reason: null,
    message: null,
    launched_at: now,
    updated_at: now,
    ...over,
  });
}

export function endpointRecord(service: string, id: number, url: string): EndpointRecord {
  return EndpointRecord.parse({
    schema: 1,
    service,
    replica_id: id,
    url,
    revision: 1,
    accelerator: null,
    ready_at: new Date().toISOString(),
  });
}
