import type { JetStreamClient } from "@nats-io/jetstream";
import { getJson, type KV, type Logger, publishEvent } from "@switchyard/bus";
import {
  EVENT_SCHEMA_VERSION,
  type ResolvedSpec,
  routeOf,
  SpecRecord,
  YardError,
} from "@switchyard/contracts";
import { type ApplyDecision, decideApply } from "./records.js";

export interface SpecStore {
  /** Store `spec` as the next revision unless it equals the stored one; publishes the event. */
  apply(spec: ResolvedSpec): Promise<ApplyDecision>;
  /** What apply would do, storing nothing. */
  preview(spec: ResolvedSpec): Promise<ApplyDecision>;
  get(name: string): Promise<SpecRecord | null>;
  list(): Promise<SpecRecord[]>;
  /** Remove the spec and its route; null when there was none. */
  remove(name: string): Promise<SpecRecord | null>;
}

const MAX_CAS_ATTEMPTS = 20;

/** The KV side of the spec service: the only code that writes yard-specs and yard-services. */
export function createSpecStore(o: {
  specs: KV;
  services: KV;
  js: JetStreamClient;
  logger: Logger;
  now?: () => Date;
}): SpecStore {
  const now = o.now ?? (() => new Date());
  const read = (name: string) => getJson(o.specs, name, SpecRecord, o.logger);

  return {
    async apply(spec) {
      // Compare-and-set on the KV revision: of two concurrent applies only one can write a
      // given revision; the loser re-reads and decides again (maybe "unchanged" now).
      for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
        const entry = await o.specs.get(spec.name);
        const live = entry?.operation === "PUT";
        const stored = live ? ((await read(spec.name))?.value ?? null) : null;
        const floor = entry && !live ? await lastDeletedRevision(o.specs, spec.name) : 0;
        const d = decideApply(stored, spec, now(), floor);
        if (!d.changed) return d;
        try {
          const value = JSON.stringify(d.record);
          if (live) await o.specs.update(spec.name, value, entry!.revision);
          else await o.specs.create(spec.name, value);
        } catch (err) {
          if (isConflict(err)) continue;
          throw err;
        }
        await o.services.put(spec.name, JSON.stringify(routeOf(d.record)));
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
    async preview(spec) {
      const stored = (await read(spec.name))?.value ?? null;
      const floor = stored ? 0 : await lastDeletedRevision(o.specs, spec.name);
      return decideApply(stored, spec, now(), floor);
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
      await o.services.delete(name);
      await o.specs.delete(name);
      await publishEvent(o.js, {
        schema: EVENT_SCHEMA_VERSION,
        type: "spec.deleted",
        service: name,
        revision: r.value.revision,
        at: now().toISOString(),
      });
      return r.value;
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
