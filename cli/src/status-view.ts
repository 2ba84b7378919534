import {
  type EndpointRecord,
  FAILED_PHASES,
  type ReplicaPhase,
  type ReplicaRecord,
  type SpecRecord,
} from "@switchyard/contracts";
import { renderTable, truncate } from "./table.js";

/** SkyServe's ServiceStatus names (skyserve.md §2.3) for what the CLI can see. */
export type ServiceStatus = "READY" | "FAILED" | "NO_REPLICA" | "REPLICA_INIT";

/** SkyServe's `from_replica_statuses`: any READY → READY; any failed → FAILED; none → NO_REPLICA. */
export function serviceStatus(phases: readonly ReplicaPhase[]): ServiceStatus {
  if (phases.includes("READY")) return "READY";
  if (phases.some((p) => FAILED_PHASES.includes(p))) return "FAILED";
  if (phases.length === 0) return "NO_REPLICA";
  return "REPLICA_INIT";
}

export interface ServiceRow {
  name: string;
  revision: number;
  status: ServiceStatus;
  /** Replicas with an endpoint (the prober's "ready") or in phase READY. */
  ready: number;
  /** Replicas not in a failed phase (SkyServe's total excludes failed ones). */
  total: number;
  endpoint: string;
  lb_policy: string;
}

/**
 * A replica's phase as the user should see it: an endpoint present means the prober saw it
 * pass its probe, even if the provisioner has not recorded READY yet.
 */
export function effectivePhase(r: ReplicaRecord, endpoints: ReadonlySet<string>): ReplicaPhase {
  const settled = r.phase === "SHUTTING_DOWN" || FAILED_PHASES.includes(r.phase);
  return !settled && endpoints.has(`${r.service}.${r.id}`) ? "READY" : r.phase;
}

export function serviceRows(
  specs: readonly SpecRecord[],
  replicas: readonly ReplicaRecord[],
  endpoints: readonly EndpointRecord[],
  endpointOf: (name: string) => string,
): ServiceRow[] {
  const ready = new Set(endpoints.map((e) => `${e.service}.${e.replica_id}`));
  return specs.map((s) => {
    const phases = replicas.filter((r) => r.service === s.name).map((r) => effectivePhase(r, ready));
    return {
      name: s.name,
      revision: s.revision,
      status: serviceStatus(phases),
      ready: phases.filter((p) => p === "READY").length,
      total: phases.filter((p) => !FAILED_PHASES.includes(p)).length,
      endpoint: endpointOf(s.name),
      lb_policy: s.spec.service.load_balancing_policy,
    };
  });
}

export function servicesTable(rows: readonly ServiceRow[]): string {
  return renderTable(
    ["NAME", "REVISION", "STATUS", "REPLICAS", "ENDPOINT", "LB_POLICY"],
    rows.map((r) => [r.name, String(r.revision), r.status, `${r.ready}/${r.total}`, r.endpoint, r.lb_policy]),
  );
}

function accelerator(r: ReplicaRecord): string {
  if (!r.accelerator) return "-";
  return r.accelerator_count && r.accelerator_count !== 1
    ? `${r.accelerator}:${r.accelerator_count}`
    : r.accelerator;
}

/** Replicas of the given services, by service then id; REASON is `Reason: message`, cut short. */
export function replicasTable(
  replicas: readonly ReplicaRecord[],
  endpoints: readonly EndpointRecord[],
  reasonWidth = 60,
): string {
  const ready = new Set(endpoints.map((e) => `${e.service}.${e.replica_id}`));
  const sorted = [...replicas].sort((a, b) => a.service.localeCompare(b.service) || a.id - b.id);
  return renderTable(
    ["SERVICE", "ID", "REVISION", "PHASE", "ENDPOINT", "ACCELERATOR", "REASON"],
    sorted.map((r) => [
      r.service,
      String(r.id),
      String(r.revision),
      effectivePhase(r, ready),
      r.url ?? "-",
      accelerator(r),
      r.reason || r.message ? truncate([r.reason, r.message].filter(Boolean).join(": "), reasonWidth) : "-",
    ]),
  );
}
