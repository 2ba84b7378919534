import { type KV, putJson } from "@switchyard/bus";
import { replicaKey } from "@switchyard/contracts";
import { endpointRecord, routeRecord } from "@switchyard/testkit";

/** The fleet written into the buckets: `services` × `replicas`, as the spec service and prober write it. */
export interface Fleet {
  services: number;
  replicas: number;
}

/** Service i's name: fixed width, so names sort as they are numbered (`s00000` … `s09999`). */
export const serviceName = (i: number) => `s${String(i).padStart(5, "0")}`;

/**
 * Put every route (yard-services) and endpoint (yard-endpoints) of the fleet, `inFlight` KV
 * writes at a time (one by one would time the round trip, not the fill). Endpoint j of service i
 * points at `upstreams[(i × replicas + j) mod n]`. Resolves with the last endpoint revision.
 */
export async function fillFleet(
  kv: { services: KV; endpoints: KV },
  f: Fleet,
  upstreams: string[],
  inFlight = 512,
): Promise<number> {
  const writes: (() => Promise<number>)[] = [];
  for (let i = 0; i < f.services; i++) {
    const name = serviceName(i);
    const route = routeRecord({
      name,
      replica_policy: {
        ...routeRecord().replica_policy!,
        min_replicas: f.replicas,
        max_replicas: f.replicas,
      },
    });
    writes.push(() => putJson(kv.services, name, route));
  }
  for (let i = 0; i < f.services; i++) {
    const service = serviceName(i);
    for (let j = 1; j <= f.replicas; j++) {
      const url = upstreams[(i * f.replicas + j - 1) % upstreams.length];
      const rec = endpointRecord({ service, replica_id: j, url });
      writes.push(() => putJson(kv.endpoints, replicaKey(service, j), rec));
    }
  }
  let next = 0;
  let last = 0;
  const worker = async () => {
    while (next < writes.length) {
      const rev = await writes[next++]();
      last = Math.max(last, rev);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, writes.length) }, worker));
  return last;
}
