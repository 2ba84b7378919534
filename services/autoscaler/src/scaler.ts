// @pure: no I/O (tools/lint-boundaries checks it)
import {
  EVENT_SCHEMA_VERSION,
  type EventOf,
  type LoadReport,
  type ReplicaRecord,
  SCALE_SCHEMA_VERSION,
  type ScaleRecord,
  type ServiceRoute,
} from "@switchyard/contracts";
import { type Decision, decide, type ScaleState } from "./decide.js";
import type { ReplicaView } from "./instance-aware.js";
import { type BookOptions, type Evidence, LoadBook, type ReportResult } from "./load-book.js";

export interface ScalerOptions extends BookOptions {
  /** A record whose decision did not change is rewritten for its QPS at most this often. */
  refreshMs: number;
}

/** What the bus adapter should do after a decision. */
export type Effect =
  /** Write the record; publish `event` (the target changed) once the write landed. */
  | { type: "put"; record: ScaleRecord; event: EventOf<"autoscaler.decided"> | null }
  /** The service is gone: remove its record. */
  | { type: "delete"; service: string }
  /** The service cannot be scaled (logged once per revision). */
  | { type: "unmanaged"; service: string; revision: number; message: string };

export interface ServiceView {
  service: string;
  qps: number;
  inFlight: number;
  evidence: Evidence;
  /** The target in yard-scale as far as this process knows; null: none. */
  target: number | null;
  wanted: number | null;
}

/**
 * The autoscaler's whole view and its decisions, without I/O: routes and replicas from the
 * buckets, load reports from the proxies, the records of yard-scale. `decideAll` says what to
 * write; the caller reports back what landed (`stored`), so a failed write is simply decided
 * and written again on the next pass.
 */
export class Scaler {
  readonly book: LoadBook;
  private readonly routes = new Map<string, ServiceRoute>();
  private readonly replicas = new Map<string, ReplicaRecord>();
  private readonly states = new Map<string, ScaleState>();
  /** What yard-scale holds, as last loaded or written. */
  private readonly records = new Map<string, ScaleRecord>();
  private readonly unmanaged = new Map<string, number>();

  /** `book`: one that has been listening already (a hot standby's); by default a new one from `now`. */
  constructor(
    private readonly o: ScalerOptions,
    now: number,
    book?: LoadBook,
  ) {
    this.book = book ?? new LoadBook(o, now);
  }

  setRoute(name: string, route: ServiceRoute | null): void {
    if (route) this.routes.set(name, route);
    else {
      this.routes.delete(name);
      this.states.delete(name);
    }
  }

  setReplica(key: string, rec: ReplicaRecord | null): void {
    if (rec) this.replicas.set(key, rec);
    else this.replicas.delete(key);
  }

  /** A record of yard-scale as loaded at start, or as written by us. */
  stored(rec: ScaleRecord): void {
    this.records.set(rec.service, rec);
  }

  removed(service: string): void {
    this.records.delete(service);
  }

  /**
   * A load report; `urgent` (decide this service now, not at the next tick) when it holds
   * requests at a target of zero, or when the service scales up without delay
   * (`upscale_delay_seconds: 0`): a rise in load then reaches a decision with the report that
   * shows it. Down-scaling keeps its own delay, so deciding more often changes nothing there.
   */
  report(r: LoadReport, now: number): { result: ReportResult; urgent: boolean } {
    const result = this.book.report(r, now);
    const route = this.routes.get(r.service);
    if (result !== "ok" || !route) return { result, urgent: false };
    const target = this.records.get(r.service)?.target_replicas ?? 0;
    const fromZero = r.held > 0 && target === 0;
    const noUpDelay = route.replica_policy?.upscale_delay_seconds === 0 && r.requests > 0;
    return { result, urgent: fromZero || noUpDelay };
  }

  /** Every service's decision (and the records of services that are gone). */
  decideAll(now: number): Effect[] {
    this.book.prune(now);
    const names = new Set([...this.routes.keys(), ...this.records.keys()]);
    return [...names].sort().flatMap((s) => this.decideOne(s, now));
  }

  decideOne(service: string, now: number): Effect[] {
    const route = this.routes.get(service);
    const stored = this.records.get(service) ?? null;
    if (!route) return stored ? [{ type: "delete", service }] : [];
    const policy = route.replica_policy;
    if (!policy) {
      if (this.unmanaged.get(service) === route.revision) return [];
      this.unmanaged.set(service, route.revision);
      const message = "its route has no replica policy (written by an older spec service): apply it again";
      return [{ type: "unmanaged", service, revision: route.revision, message }];
    }
    this.unmanaged.delete(service);

    const load = this.book.view(service, now);
    const prev = this.states.get(service) ?? stateOf(stored, policy.num_overprovision);
    const d = decide(
      prev,
      {
        revision: route.revision,
        policy: { ...policy, target_qps_per_replica: route.target_qps_per_replica },
        load,
        replicas: this.replicasOf(service),
      },
      now,
    );
    this.states.set(service, d.state);
    // Paused with nothing stored: the provisioner runs min_replicas already; write nothing
    // rather than a target that no load backs.
    if (!stored && d.reason === "paused") return [];
    const qps = load.evidence === "none" && load.proxies === 0 ? null : round(load.qps);
    const record = recordOf(service, route, d, qps, now);
    if (!mustWrite(stored, record, now, this.o.refreshMs)) return [];
    const event: EventOf<"autoscaler.decided"> | null =
      stored?.target_replicas === record.target_replicas
        ? null
        : {
            schema: EVENT_SCHEMA_VERSION,
            type: "autoscaler.decided",
            service,
            at: record.updated_at,
            revision: record.revision ?? route.revision,
            from: stored?.target_replicas ?? null,
            to: record.target_replicas,
            reason: d.reason,
            qps,
            target_qps_per_replica: route.target_qps_per_replica,
          };
    return [{ type: "put", record, event }];
  }

  /** Per service, for /metrics. */
  views(now: number): ServiceView[] {
    const names = new Set([...this.routes.keys(), ...this.book.reported()]);
    return [...names].sort().map((service) => {
      const v = this.book.view(service, now);
      const rec = this.records.get(service);
      return {
        service,
        qps: v.qps,
        inFlight: v.inFlight,
        evidence: v.evidence,
        target: rec?.target_replicas ?? null,
        wanted: rec?.wanted_replicas ?? null,
      };
    });
  }

  private replicasOf(service: string): ReplicaView[] {
    const out: ReplicaView[] = [];
    for (const r of this.replicas.values()) if (r.service === service) out.push(r);
    return out;
  }
}

/** The state a stored record stands for (after a restart): its target, no delay running. */
function stateOf(rec: ScaleRecord | null, overprovision: number): ScaleState | null {
  if (!rec) return null;
  const decided = Date.parse(rec.decided_at ?? rec.updated_at);
  return {
    base: Math.max(0, rec.target_replicas - overprovision),
    revision: rec.revision ?? 0,
    pending: null,
    decidedAt: Number.isFinite(decided) ? decided : 0,
  };
}

function recordOf(
  service: string,
  route: ServiceRoute,
  d: Decision,
  qps: number | null,
  now: number,
): ScaleRecord {
  return {
    schema: SCALE_SCHEMA_VERSION,
    service,
    target_replicas: d.target,
    updated_at: new Date(now).toISOString(),
    revision: d.state.revision || route.revision,
    reason: d.reason,
    qps,
    target_qps_per_replica: route.target_qps_per_replica,
    wanted_replicas: d.wanted,
    pending_since: d.state.pending ? new Date(d.state.pending.since).toISOString() : null,
    decided_at: new Date(d.state.decidedAt).toISOString(),
  };
}

/**
 * Write when the decision changed (target, reason, wanted, delay, revision, target QPS); a QPS
 * that moved alone is rewritten at most every `refreshMs` (yard status shows it).
 */
function mustWrite(stored: ScaleRecord | null, next: ScaleRecord, now: number, refreshMs: number): boolean {
  if (!stored) return true;
  const same = (k: keyof ScaleRecord) =>
    JSON.stringify(stored[k] ?? null) === JSON.stringify(next[k] ?? null);
  const keys: (keyof ScaleRecord)[] = [
    "target_replicas",
    "reason",
    "wanted_replicas",
    "pending_since",
    "revision",
    "target_qps_per_replica",
  ];
  if (!keys.every(same)) return true;
  if (same("qps")) return false;
  const written = Date.parse(stored.updated_at);
  return !Number.isFinite(written) || now - written >= refreshMs;
}

const round = (n: number) => Math.round(n * 1000) / 1000;
