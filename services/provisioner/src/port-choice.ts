import { HOLDING_PHASES, type ResolvedSpec, replicaKey } from "@switchyard/contracts";
import type { Backend } from "./backends/backend.js";
import type { PortDecision } from "./backends/ports.js";
import type { ReplicaStore } from "./replica-store.js";

let lock: Promise<unknown> = Promise.resolve();

/**
 * The replica's port, as its backend chooses it. Serialised: two replicas launched together
 * must not both take the spec's port before either binds it, so ports of our own replicas
 * count as taken, and the choice is reserved in the record before the next one runs.
 */
export function choosePort(
  backend: Backend,
  store: ReplicaStore,
  key: string,
  spec: ResolvedSpec,
): Promise<PortDecision> {
  const run = async (): Promise<PortDecision> => {
    const taken = new Map<number, string>();
    for (const r of store.all())
      if (HOLDING_PHASES.includes(r.phase) && r.port !== null && replicaKey(r.service, r.id) !== key)
        taken.set(r.port, replicaKey(r.service, r.id));
    const d = await backend.choosePort({ specPort: spec.service.port, run: spec.run ?? null, taken });
    // Reserve it at once (the caller writes the record), before the next choice runs.
    const r = store.get(key);
    if (d.ok && r) store.put({ ...r, port: d.port });
    return d;
  };
  const p = lock.then(run);
  lock = p.catch(() => {});
  return p;
}
