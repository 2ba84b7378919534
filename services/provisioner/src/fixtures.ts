import {
  fixedReplicaPolicy,
  type ReplicaRecord,
  type ResolvedSpec,
  type SpecRecord,
} from "@switchyard/contracts";

/**
 * Hand-built records for tests (unit and integration): a resolved spec as the spec service
 * stores it, and replica records as the provisioner writes them.
 */
export function specRecord(o: {
  name?: string;
  revision?: number;
  replicas?: number;
  maxReplicas?: number;
  accelerators?: { name: string; count: number }[];
  envs?: Record<string, string>;
  secretNames?: string[];
  setup?: string | null;
  run?: string | null;
  port?: number;
}): SpecRecord {
  const port = o.port ?? 8000;
  const spec: ResolvedSpec = {
    schema: 1,
    name: o.name ?? "svc",
    envs: o.envs ?? {},
    secret_names: o.secretNames ?? [],
    resources: { accelerators: o.accelerators ?? [], ports: [port], other: {} },
    setup: o.setup ?? null,
    run: o.run === undefined ? "sleep 1000" : o.run,
    workdir: null,
    service: {
      readiness_probe: {
        path: "/v1/models",
        post_data: null,
        initial_delay_seconds: 60,
        timeout_seconds: 15,
        headers: {},
      },
      replica_policy: {
        ...fixedReplicaPolicy(o.replicas ?? 1),
        max_replicas: o.maxReplicas ?? o.replicas ?? 1,
      },
      load_balancing_policy: "least_load",
      port,
      tls: null,
    },
    ignored_keys: [],
    warnings: [],
  };
  return {
    schema: 1,
    name: spec.name,
    revision: o.revision ?? 1,
    digest: `digest-${o.revision ?? 1}`,
    applied_at: new Date(0).toISOString(),
    spec,
  };
}

export function replicaRecord(o: Partial<ReplicaRecord> & { id: number }): ReplicaRecord {
  return {
    schema: 1,
    service: "svc",
    revision: 1,
    phase: "STARTING",
    backend: "local",
    url: `http://127.0.0.1:${9000 + o.id}`,
    port: 9000 + o.id,
    accelerator: null,
    accelerator_count: null,
    gpu_indices: [],
    pid: 1000 + o.id,
    host: "127.0.0.1",
    reason: null,
    message: null,
    launched_at: new Date(0).toISOString(),
    updated_at: new Date(0).toISOString(),
    first_ready_at: null,
    ...o,
  };
}
