import {
  createYardStreams,
  type Fence,
  FencedKv,
  getJson,
  type JetStreamClient,
  jetstream,
  type KV,
  type Logger,
  type NatsConnection,
  NO_FENCE,
  publishEvent,
  serve,
} from "@switchyard/bus";
import {
  ApplyRequest,
  Buckets,
  EVENT_SCHEMA_VERSION,
  ListRequest,
  NameRequest,
  routeOf,
  SpecRecord,
  Subjects,
  TlsRecord,
  YardError,
} from "@switchyard/contracts";
import type { SpecHandlers, SpecStore } from "./handlers.js";
import { decideApply } from "./records.js";

// The spec service's one bus adapter: its buckets, its events and its request subjects.

const MAX_CAS_ATTEMPTS = 20;

/**
 * Create every stream of Switchyard (the spec service alone creates them: the others bind),
 * then the store over yard-specs, yard-services and yard-tls, of which the spec service is the
 * single writer; the store is the only code that writes them.
 */
export async function openSpecStore(
  nc: NatsConnection,
  logger: Logger,
  replicas = 1,
  now?: () => Date,
  fence: Fence = NO_FENCE,
): Promise<SpecStore> {
  const kvs = await createYardStreams(nc, { replicas, logger });
  const [specs, services, tls] = [kvs[Buckets.specs], kvs[Buckets.services], kvs[Buckets.tls]];
  return createSpecStore({ specs, services, tls, js: jetstream(nc), logger, now, fence });
}

/** The four operations on their NATS subjects; stop() lets requests in flight finish. */
export function serveSpecApi(nc: NatsConnection, h: SpecHandlers, logger: Logger): { stop(): Promise<void> } {
  const subs = [
    serve(nc, Subjects.specApply, ApplyRequest, (r) => h.apply(r), logger),
    serve(nc, Subjects.specGet, NameRequest, (r) => h.get(r.name), logger),
    serve(nc, Subjects.specList, ListRequest, () => h.list(), logger),
    serve(nc, Subjects.specDelete, NameRequest, (r) => h.remove(r.name), logger),
  ];
  return {
    async stop() {
      await Promise.all(subs.map((s) => s.stop()));
    },
  };
}

/**
 * Every write is fenced by the spec service's lease (`fence.check()` right before it: a standby
 * that took over is the only writer). yard-specs is compare-and-set on the revision just read;
 * yard-services and yard-tls carry the revision this instance last read or wrote (FencedKv), so
 * a paused old leader's late route cannot overwrite the new leader's.
 */
function createSpecStore(o: {
  specs: KV;
  services: KV;
  tls: KV;
  js: JetStreamClient;
  logger: Logger;
  now?: () => Date;
  fence: Fence;
}): SpecStore {
  const now = o.now ?? (() => new Date());
  const read = (name: string) => getJson(o.specs, name, SpecRecord, o.logger);
  const services = new FencedKv(o.services, o.fence, o.logger);
  const tls = new FencedKv(o.tls, o.fence, o.logger);
  /** The newest spec revision whose route this instance has written, per service. */
  const routeWritten = new Map<string, number>();

  /**
   * An apply whose spec was written but whose route was not (the route's put timed out in a
   * JetStream election, or the lease lapsed between the two writes: seen when a cluster node is
   * killed) left yard-services a revision behind yard-specs. The user's retry finds the spec
   * unchanged, so without this the route would never follow and proxies would route none of the
   * new revision's replicas. An unchanged apply therefore rewrites a route that differs.
   */
  async function ensureRoute(rec: SpecRecord): Promise<void> {
    const want = JSON.stringify(routeOf(rec));
    const e = await o.services.get(rec.name);
    if (e?.operation === "PUT" && e.string() === want) return;
    o.logger.warn(
      { service: rec.name, revision: rec.revision },
      "service route behind its spec; rewriting it",
    );
    await services.put(rec.name, want);
  }

  return {
    async apply(spec, update) {
      // Compare-and-set on the KV revision: of two concurrent applies only one can write a
      // given revision; the loser re-reads and decides again (maybe "unchanged" now).
      for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
        const entry = await o.specs.get(spec.name);
        const live = entry?.operation === "PUT";
        const stored = live ? ((await read(spec.name))?.value ?? null) : null;
        const floor = entry && !live ? await lastDeletedRevision(o.specs, spec.name) : 0;
        const d = decideApply(stored, spec, now(), floor, update);
        if (!d.changed) {
          await ensureRoute(d.record);
          return d;
        }
        try {
          const value = JSON.stringify(d.record);
          o.fence.check();
          if (live) await o.specs.update(spec.name, value, entry!.revision);
          else await o.specs.create(spec.name, value);
        } catch (err) {
          if (isConflict(err)) continue;
          throw err;
        }
        // Concurrent applies of one service: their route writes run in call order (FencedKv),
        // and one that would put an older revision's route over a newer one is dropped.
        if ((routeWritten.get(spec.name) ?? 0) < d.record.revision) {
          routeWritten.set(spec.name, d.record.revision);
          await services.put(spec.name, JSON.stringify(routeOf(d.record)));
        }
        await publishEvent(o.js, {
          schema: EVENT_SCHEMA_VERSION,
          type: "spec.published",
          service: spec.name,
          revision: d.record.revision,
          at: d.record.applied_at,
        });
        return d;
      }
      throw new YardError("SY_ERR_INTERNAL", `too many concurrent applies of ${spec.name}; try again`);
    },
    async preview(spec, update) {
      const stored = (await read(spec.name))?.value ?? null;
      const floor = stored ? 0 : await lastDeletedRevision(o.specs, spec.name);
      return decideApply(stored, spec, now(), floor, update);
    },
    async get(name) {
      return (await read(name))?.value ?? null;
    },
    async list() {
      const names: string[] = [];
      for await (const k of await o.specs.keys()) names.push(k);
      const out: SpecRecord[] = [];
      for (const n of names.sort()) {
        const r = await read(n);
        if (r) out.push(r.value);
      }
      return out;
    },
    async remove(name) {
      const r = await read(name);
      if (!r) return null;
      // The route goes first so proxies stop sending traffic before replicas are torn down.
      await services.delete(name);
      routeWritten.delete(name);
      o.fence.check();
      await o.specs.delete(name, { previousSeq: r.revision });
      await publishEvent(o.js, {
        schema: EVENT_SCHEMA_VERSION,
        type: "spec.deleted",
        service: name,
        revision: r.value.revision,
        at: now().toISOString(),
      });
      return r.value;
    },
    async putTls(rec) {
      const stored = (await getJson(o.tls, rec.name, TlsRecord, o.logger))?.value;
      if (stored && stored.cert === rec.cert && stored.key === rec.key) return false;
      await tls.put(rec.name, JSON.stringify(rec));
      return true;
    },
    async removeTls(name) {
      const e = await o.tls.get(name);
      if (e?.operation !== "PUT") return false;
      // Purge, not delete: no earlier revision of the key stays readable.
      o.fence.check();
      await o.tls.purge(name);
      tls.seen(name, 0);
      return true;
    },
  };
}

/** The revision of the newest record still in the key's history (0 if none). */
async function lastDeletedRevision(kv: KV, name: string): Promise<number> {
  let rev = 0;
  for await (const e of await kv.history({ key: name })) {
    if (e.operation !== "PUT") continue;
    const r = SpecRecord.safeParse(safeJson(e.string()));
    if (r.success) rev = Math.max(rev, r.data.revision);
  }
  return rev;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function isConflict(err: unknown): boolean {
  return /wrong last sequence|10071|key exists/i.test(String(err));
}
