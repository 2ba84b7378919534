import { HOLDING_PHASES, type ResolvedSpec, replicaKey } from "@switchyard/contracts";
import type { Backend } from "./backend.js";
import { decidePort, type PortDecision } from "./ports.js";
import type { ReplicaStore } from "./replica-store.js";

let lock: Promise<unknown> = Promise.resolve();

/**
 * The replica's port (see decidePort). Serialised: two replicas launched together must not both
 * take the spec's port before either binds it, so ports of our own replicas count as taken.
 */
export function choosePort(
  backend: Backend,
  store: ReplicaStore,
  key: string,
  spec: ResolvedSpec,
): Promise<PortDecision> {
  const run = async (): Promise<PortDecision> => {
    const mine = store
      .all()
      .filter((r) => HOLDING_PHASES.includes(r.phase) && r.port !== null)
      .filter((r) => replicaKey(r.service, r.id) !== key);
    const specPort = spec.service.port;
    const holder = mine.find((r) => r.port === specPort);
    const specPortFree = !holder && (await backend.portFree(specPort));
    const taken = new Set(mine.map((r) => r.port));
    let freePort = 0;
    for (let i = 0; !specPortFree && i < 10 && (freePort === 0 || taken.has(freePort)); i++)
      freePort = await backend.freePort();
    const d = decidePort({
      specPort,
      specPortFree,
      freePort,
      run: spec.run,
      heldBy: holder ? replicaKey(holder.service, holder.id) : null,
    });
    // Reserve it at once (the caller writes the record), before the next choice runs.
    const r = store.get(key);
    if (d.ok && r) store.put({ ...r, port: d.port });
    return d;
  };
  const p = lock.then(run);
  lock = p.catch(() => {});
  return p;
}
