// @pure: no I/O (tools/lint-boundaries checks it)
import {
  activeRevisions,
  DEFAULT_LB_POLICY,
  DEFAULT_UPDATE_MODE,
  type EndpointRecord,
  type LatestRevision,
  type LbPolicy,
  type ServiceRoute,
} from "@switchyard/contracts";
import { policies } from "./lb/registry.js";
import type { LbPolicyImpl, LbState } from "./lb/types.js";

export interface Replica<U> {
  readonly key: string;
  readonly service: string;
  readonly id: number;
  readonly url: string;
  accelerator: string | null;
  /** Its spec revision (blue-green routes one revision at a time). */
  revision: number;
  /** Its endpoint says it drains: no new request goes to it; those in flight finish. */
  draining: boolean;
  inFlight: number;
  targetQps: number;
  ejectedUntil: number;
  /**
   * The connection pool (or any per-replica handle) made by the table's `open`, at the first
   * read: a fleet of 100k endpoints is not 100k pools (an undici Pool is ~18 KB, and making
   * one ~0.7 ms: 2 GB and 80 s before a proxy could route 10k services × 10 replicas).
   */
  readonly upstream: U;
}

/** A replica as the table keeps it: its pool is opened on first use and closed only if opened. */
class TableReplica<U> implements Replica<U> {
  inFlight = 0;
  ejectedUntil = 0;
  private pool: { u: U } | null = null;
  private closed = false;

  constructor(
    readonly key: string,
    readonly service: string,
    readonly id: number,
    readonly url: string,
    public accelerator: string | null,
    public revision: number,
    public draining: boolean,
    public targetQps: number,
    private readonly hooks: Pick<UpstreamHooks<U>, "open" | "close">,
  ) {}

  get upstream(): U {
    if (!this.pool) {
      this.pool = { u: this.hooks.open(this.url) };
      // Read after the replica left (a request that held it): a closed pool, as before, not a leak.
      if (this.closed) this.hooks.close(this.pool.u);
    }
    return this.pool.u;
  }

  /** It left the table: close its pool if it had one (requests on it still finish). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pool) this.hooks.close(this.pool.u);
  }
}

export interface ServiceEntry<U> {
  readonly name: string;
  policyName: LbPolicy;
  policy: LbPolicyImpl;
  target: ServiceRoute["target_qps_per_replica"];
  /** The replicas new requests may go to: ready, not draining, of a revision taking traffic. */
  replicas: Replica<U>[];
  /**
   * Every replica with an endpoint, the draining ones and those of a revision not taking
   * traffic (blue-green standby) included: their requests in flight are still counted (load
   * reports: a drain waits for them).
   */
  all: Replica<U>[];
  /** The route's revision, update mode and min_replicas (null: no route seen). */
  latest: LatestRevision | null;
  /** Blue-green: the revision this proxy switched to; older ones never take traffic again here. */
  floor: number;
  state: LbState;
  /** True when yard-services holds a route for it (else only endpoints made it known). */
  declared: boolean;
  /**
   * Its route says `min_replicas: 0`: zero replicas is its idle state, not a failure, so a
   * request that finds none waits for the first (scale-from-zero) instead of a 503.
   */
  scalesToZero: boolean;
  /**
   * Bumped by every change to its endpoints or route: its load reports follow a change for a
   * few intervals even when it is quiet (a drain waits for a report made after the change).
   */
  changes: number;
}

export interface UpstreamHooks<U> {
  open(url: string): U;
  /** Called when a replica leaves the table; in-flight requests on it may still finish. */
  close(u: U): void;
  random?: () => number;
  /** A replica was added to the service (requests held for its first one can go now). */
  routable?(service: string): void;
  /** The service left the table (no route and no replica any more). */
  removed?(service: string): void;
}

/**
 * The proxy's routing state, fed by yard-endpoints and yard-services changes. Lookups are a
 * Map get; every change rebuilds only the affected service's replica array.
 */
export class RouteTable<U> {
  readonly services = new Map<string, ServiceEntry<U>>();
  private readonly byKey = new Map<string, TableReplica<U>>();
  /** The last yard-endpoints revision applied. */
  version = 0;
  private readonly random: () => number;
  /** Between `beginBatch` and `endBatch`: the services whose routable set is recomputed at the end. */
  private batch: Set<ServiceEntry<U>> | null = null;

  constructor(private readonly hooks: UpstreamHooks<U>) {
    this.random = hooks.random ?? Math.random;
  }

  putEndpoint(key: string, rec: EndpointRecord, revision: number): void {
    this.version = Math.max(this.version, revision);
    const old = this.byKey.get(key);
    if (old && old.url === rec.url && old.service === rec.service) {
      const svc = this.entry(rec.service);
      // Same replica re-announced: keep its counters and pool; a fresh record ends an ejection.
      old.accelerator = rec.accelerator;
      old.targetQps = targetQpsOf(svc, rec.accelerator);
      old.ejectedUntil = 0;
      old.revision = rec.revision;
      old.draining = rec.draining;
      this.refresh(svc);
      return;
    }
    if (old) this.removeReplica(old);
    const svc = this.entry(rec.service);
    const r = new TableReplica<U>(
      key,
      svc.name, // one string per service, not one per endpoint
      rec.replica_id,
      rec.url,
      rec.accelerator,
      rec.revision,
      rec.draining,
      targetQpsOf(svc, rec.accelerator),
      this.hooks,
    );
    this.byKey.set(key, r);
    // A batch appends in place (nothing routes yet); otherwise a new array, as every change.
    if (this.batch) svc.all.push(r);
    else svc.all = [...svc.all, r];
    this.refresh(svc);
  }

  deleteEndpoint(key: string, revision: number): void {
    this.version = Math.max(this.version, revision);
    const old = this.byKey.get(key);
    if (old) this.removeReplica(old);
  }

  putService(route: ServiceRoute): void {
    const svc = this.entry(route.name);
    svc.declared = true;
    svc.scalesToZero = route.replica_policy?.min_replicas === 0;
    svc.target = route.target_qps_per_replica;
    svc.latest = {
      revision: route.revision,
      mode: route.update_mode ?? DEFAULT_UPDATE_MODE,
      minReplicas: route.replica_policy?.min_replicas ?? 1,
    };
    const policyChanged = svc.policyName !== route.load_balancing_policy;
    if (policyChanged) {
      svc.policyName = route.load_balancing_policy;
      svc.policy = policies[route.load_balancing_policy];
    }
    // Targets before the set-change hook: the new policy may read them.
    for (const r of svc.all) r.targetQps = targetQpsOf(svc, r.accelerator);
    if (policyChanged) {
      svc.replicas = [...svc.replicas];
      svc.policy.onSetChange(svc.replicas, svc.state, this.random);
    }
    this.refresh(svc);
  }

  deleteService(name: string): void {
    const svc = this.services.get(name);
    if (!svc) return;
    svc.declared = false;
    svc.scalesToZero = false;
    svc.latest = null;
    // Endpoints of a deleted service go away as the prober deletes them; until then they serve.
    if (svc.all.length === 0) this.drop(name);
    else this.refresh(svc);
  }

  /**
   * Apply many changes (a snapshot of 100k endpoints) and recompute each service's routable
   * set once, at `endBatch`, instead of after every change. Lookups meanwhile see the changes
   * applied so far; the proxy takes no request before the batch ends.
   */
  beginBatch(): void {
    this.batch ??= new Set();
  }

  endBatch(): void {
    const dirty = this.batch;
    this.batch = null;
    for (const svc of dirty ?? []) if (this.services.get(svc.name) === svc) this.refresh(svc);
  }

  get(name: string): ServiceEntry<U> | undefined {
    return this.services.get(name);
  }

  /** The only service, when there is exactly one (host-less routing). */
  only(): ServiceEntry<U> | undefined {
    if (this.services.size !== 1) return undefined;
    return this.services.values().next().value;
  }

  /** Keep this replica out of rotation until `until` (or until its endpoint is re-put). */
  eject(r: Replica<U>, until: number): void {
    r.ejectedUntil = until;
  }

  private entry(name: string): ServiceEntry<U> {
    let svc = this.services.get(name);
    if (!svc) {
      svc = {
        name,
        policyName: DEFAULT_LB_POLICY,
        policy: policies[DEFAULT_LB_POLICY],
        target: null,
        replicas: [],
        all: [],
        latest: null,
        floor: 0,
        state: { cursor: 0 },
        declared: false,
        scalesToZero: false,
        changes: 0,
      };
      this.services.set(name, svc);
    }
    return svc;
  }

  private removeReplica(r: TableReplica<U>): void {
    this.byKey.delete(r.key);
    const svc = this.services.get(r.service);
    if (svc) {
      svc.all = svc.all.filter((x) => x !== r);
      this.refresh(svc);
      if (svc.all.length === 0 && !svc.declared) this.drop(svc.name);
    }
    r.close();
  }

  /**
   * Recompute which replicas take new requests: not draining, and of a revision taking traffic
   * (activeRevisions: all ready revisions while a rolling update runs; in blue-green one, the new
   * one once enough of it is ready — every proxy decides it from the same endpoints, and once
   * switched never goes back). The policy hears of a change; a replica joining may free held
   * requests.
   */
  private refresh(svc: ServiceEntry<U>): void {
    svc.changes++;
    if (this.batch) {
      this.batch.add(svc);
      return;
    }
    const live = svc.all.filter((r) => !r.draining);
    const active = activeRevisions(
      live.map((r) => r.revision),
      svc.latest,
      svc.floor,
    );
    if (svc.latest?.mode === "blue_green" && active.length === 1) svc.floor = Math.max(svc.floor, active[0]);
    let next = live.filter((r) => active.includes(r.revision));
    // A scale relabels the running replicas with the new revision in place; their endpoints can
    // arrive before the new route (after a NATS node loss the route watch lagged by seconds), and
    // waiting for it would route nothing: every request a 503. Rolling mixes revisions anyway, so
    // when nothing else is routable the newer replicas serve until their route arrives.
    if (!next.length && svc.latest?.mode !== "blue_green") next = live.filter((r) => r.revision >= svc.floor);
    const joined = next.some((r) => !svc.replicas.includes(r));
    if (!joined && next.length === svc.replicas.length) return;
    svc.replicas = next;
    svc.policy.onSetChange(svc.replicas, svc.state, this.random);
    if (joined) this.hooks.routable?.(svc.name); // last: the replica is pickable now
  }

  private drop(name: string): void {
    this.services.delete(name);
    this.hooks.removed?.(name);
  }
}

/**
 * What a load report says of a service: every replica with an endpoint, the draining ones
 * included (the provisioner stops a draining replica once no proxy reports a request on it).
 */
export function loadOf<U>(svc: ServiceEntry<U>): {
  name: string;
  replicas: readonly Replica<U>[];
  changes: number;
} {
  return { name: svc.name, replicas: svc.all, changes: svc.changes };
}

/** The replica's target QPS as the service's policy weighs it (1 for a policy that does not). */
function targetQpsOf<U>(svc: ServiceEntry<U>, accelerator: string | null): number {
  return svc.policy.targetQps?.(accelerator, svc.target) ?? 1;
}
