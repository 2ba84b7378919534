import {
  activeRevisions,
  DEFAULT_UPDATE_MODE,
  describeHalt,
  type EndpointRecord,
  FAILED_PHASES,
  haltingFailure,
  type Reason,
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
  /**
   * The revisions taking traffic now (SkyServe's VERSION column, its active versions): the
   * proxies route to these alone (activeRevisions over the ready, not draining replicas).
   */
  versions: number[];
  status: ServiceStatus;
  /** Replicas with an endpoint (the prober's "ready") or in phase READY. */
  ready: number;
  /** Replicas not in a failed phase (SkyServe's total excludes failed ones). */
  total: number;
  endpoint: string;
  lb_policy: string;
  /** Why nothing of the current revision launches (a failure before any replica was ready); null = not halted. */
  halted: Halt | null;
}

/** The failure that halts a service's current revision (haltingFailure), as `--json` shows it. */
export interface Halt {
  replica_id: number;
  revision: number;
  reason: Reason | null;
  message: string | null;
  /** The replica's last log lines, secrets masked by the provisioner. */
  log_tail: string[];
  /** What failed and what lifts the halt, in one sentence. */
  summary: string;
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
  // As the user sees them: a replica the prober saw ready lifts a halt before its record says so.
  const seen = replicas.map((r) => ({ ...r, phase: effectivePhase(r, ready) }));
  return specs.map((s) => {
    const phases = seen.filter((r) => r.service === s.name).map((r) => r.phase);
    const h = haltingFailure(seen, s.name, s.revision);
    const routable = seen.filter((r) => r.service === s.name && r.phase === "READY");
    const versions = activeRevisions(
      routable.map((r) => r.revision),
      {
        revision: s.revision,
        mode: s.update_mode ?? DEFAULT_UPDATE_MODE,
        minReplicas: s.spec.service.replica_policy.min_replicas,
      },
    );
    return {
      name: s.name,
      revision: s.revision,
      versions,
      status: serviceStatus(phases),
      ready: phases.filter((p) => p === "READY").length,
      total: phases.filter((p) => !FAILED_PHASES.includes(p)).length,
      endpoint: endpointOf(s.name),
      lb_policy: s.spec.service.load_balancing_policy,
      halted: h && {
        replica_id: h.id,
        revision: h.revision,
        reason: h.reason,
        message: h.message,
        log_tail: h.log_tail,
        summary: describeHalt(h),
      },
    };
  });
}

/** For each halted service: why, and its failed replica's last log lines. "" when none is. */
export function haltNotes(rows: readonly ServiceRow[]): string {
  const notes = rows.flatMap((r) => {
    if (!r.halted) return [];
    const { replica_id, log_tail, summary } = r.halted;
    const log = log_tail.length
      ? [`Last log lines of replica ${replica_id}:`, ...log_tail.map((l) => `  ${l}`)]
      : [`Replica ${replica_id} left no log lines (pnpm yard logs ${r.name} ${replica_id}).`];
    return [[`Service ${r.name} is halted: ${summary}.`, ...log].join("\n")];
  });
  return notes.join("\n\n");
}

export function servicesTable(rows: readonly ServiceRow[]): string {
  return renderTable(
    ["NAME", "REVISION", "VERSION", "STATUS", "REPLICAS", "ENDPOINT", "LB_POLICY"],
    rows.map((r) => [
      r.name,
      String(r.revision),
      r.versions.join(",") || "-",
      r.status,
      `${r.ready}/${r.total}`,
      r.endpoint,
      r.lb_policy,
    ]),
  );
}

function accelerator(r: ReplicaRecord): string {
  if (!r.accelerator) return "-";
  return r.accelerator_count && r.accelerator_count !== 1
    ? `${r.accelerator}:${r.accelerator_count}`
    : r.accelerator;
}

/**
 * A draining replica (SHUTTING_DOWN with `drain`) shows as DRAINING: out of rotation, its
 * requests in flight finishing before its SIGTERM.
 */
function shownPhase(r: ReplicaRecord, ready: ReadonlySet<string>): string {
  return r.phase === "SHUTTING_DOWN" && r.drain ? "DRAINING" : effectivePhase(r, ready);
}

/** Why it is not serving, and for a drain what it waits for and until when. */
function reasonOf(r: ReplicaRecord, now: number): string {
  const why = [r.reason, r.message].filter(Boolean).join(": ");
  if (!(r.phase === "SHUTTING_DOWN" && r.drain)) return why;
  const left = Math.max(0, Math.ceil((Date.parse(r.drain.deadline) - now) / 1000));
  const inFlight =
    r.drain.in_flight === null ? "waiting for the proxies' reports" : `${r.drain.in_flight} in flight`;
  return `${inFlight}, SIGTERM within ${left}s${why ? ` (${why})` : ""}`;
}

/**
 * Replicas of the given services, by service then id; REASON is `Reason: message`, cut short
 * (for a draining replica: its requests in flight and how long the drain may still last).
 */
export function replicasTable(
  replicas: readonly ReplicaRecord[],
  endpoints: readonly EndpointRecord[],
  reasonWidth = 60,
  now = Date.now(),
): string {
  const ready = new Set(endpoints.map((e) => `${e.service}.${e.replica_id}`));
  const sorted = [...replicas].sort((a, b) => a.service.localeCompare(b.service) || a.id - b.id);
  return renderTable(
    ["SERVICE", "ID", "REVISION", "PHASE", "ENDPOINT", "ACCELERATOR", "REASON"],
    sorted.map((r) => [
      r.service,
      String(r.id),
      String(r.revision),
      shownPhase(r, ready),
      r.url ?? "-",
      accelerator(r),
      truncate(reasonOf(r, now), reasonWidth) || "-",
    ]),
  );
}
