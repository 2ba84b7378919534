import { RouteTable, resolveService } from "@switchyard/proxy";
import { endpointRecord, routeRecord } from "@switchyard/testkit";
import { type Fleet, serviceName } from "./fleet.js";

export interface LookupResult {
  /** ns per lookup (Host → service → a replica picked by its policy) with the whole fleet in the table. */
  fleet_ns: number;
  /** The same with one service of `replicas` in the table: the baseline, same run. */
  one_service_ns: number;
  ratio: number;
  /** CPU ms to put the fleet into a table in one batch (as the proxy's snapshot does), and the heap it takes. */
  build_ms: number;
  heap_mb: number;
}

/**
 * The proxy's route lookup in this process, on its own RouteTable (no pools: `open` is never
 * called by a lookup): the Host header parsed, the service found, a replica picked by the
 * service's policy. Timed over `n` lookups of Hosts spread over the fleet; the baseline is
 * the same lookups on a one-service table.
 */
export function measureLookup(f: Fleet, n = 2_000_000): LookupResult {
  const build = (services: number) => {
    const table = new RouteTable<null>({ open: () => null, close() {} });
    const rev = { n: 0 };
    const records = [];
    for (let i = 0; i < services; i++) {
      const service = serviceName(i);
      const route = routeRecord({ name: service });
      const eps = [];
      for (let j = 1; j <= f.replicas; j++)
        eps.push(endpointRecord({ service, replica_id: j, url: `http://127.0.0.1:${8000 + j}` }));
      records.push({ route, eps });
    }
    const heap0 = process.memoryUsage().heapUsed;
    const c0 = process.cpuUsage();
    table.beginBatch();
    for (const { route, eps } of records) {
      table.putService(route);
      for (const e of eps) table.putEndpoint(`${e.service}.${e.replica_id}`, e, ++rev.n);
    }
    table.endBatch();
    const c = process.cpuUsage(c0);
    records.length = 0;
    return { table, buildMs: (c.user + c.system) / 1000, heap0 };
  };
  const time = (table: RouteTable<null>, hosts: string[]) => {
    const now = Date.now();
    const run = (count: number) => {
      let picked = 0;
      // CPU time, not wall time: on a shared machine the wall clock also counts other processes.
      const c0 = process.cpuUsage();
      for (let i = 0; i < count; i++) {
        const r = resolveService(
          hosts[i % hosts.length],
          "localhost",
          undefined,
          (s) => table.get(s),
          () => table.only(),
        );
        if (r.kind === "service") {
          const svc = r.service;
          if (svc.policy.pick(svc.replicas, svc.state, now, null)) picked++;
        }
      }
      if (picked === 0) throw new Error("the lookup bench picked no replica");
      const c = process.cpuUsage(c0);
      return ((c.user + c.system) * 1000) / count;
    };
    run(n / 10); // warm up: let the JIT settle before timing
    return run;
  };
  const hostsOf = (services: number) =>
    Array.from({ length: 4096 }, (_, i) => `${serviceName((i * 7919) % services)}.localhost`);

  const one = build(1);
  const fleet = build(f.services);
  const heapMb = (process.memoryUsage().heapUsed - fleet.heap0) / 1e6;
  const runOne = time(one.table, hostsOf(1));
  const runFleet = time(fleet.table, hostsOf(f.services));
  // Interleaved rounds, the best of each: the machine's other work only ever adds time.
  let oneNs = Number.POSITIVE_INFINITY;
  let fleetNs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    oneNs = Math.min(oneNs, runOne(n));
    fleetNs = Math.min(fleetNs, runFleet(n));
  }
  return {
    fleet_ns: round(fleetNs),
    one_service_ns: round(oneNs),
    ratio: round(fleetNs / oneNs),
    build_ms: Math.round(fleet.buildMs),
    heap_mb: round(heapMb),
  };
}

const round = (x: number) => Math.round(x * 100) / 100;
