import type { RouteTable } from "./route-table.js";

export interface RoutesView {
  version: number;
  services: {
    name: string;
    policy: string;
    declared: boolean;
    /** Requests waiting for the service's first replica (scale-from-zero). */
    held: number;
    replicas: {
      key: string;
      id: number;
      url: string;
      accelerator: string | null;
      in_flight: number;
      ejected: boolean;
      /** New requests may go to it (false: draining, or of a revision not taking traffic). */
      routable: boolean;
      revision: number;
    }[];
  }[];
}

/**
 * What `GET /-/routes` shows: every service (with its held requests), its replicas with
 * in-flight and ejection, version.
 */
export function routesView<U>(
  table: RouteTable<U>,
  now: number,
  held: (service: string) => number = () => 0,
): RoutesView {
  const services = [...table.services.values()]
    .map((s) => ({
      name: s.name,
      policy: s.policyName,
      declared: s.declared,
      held: held(s.name),
      replicas: s.all
        .map((r) => ({
          key: r.key,
          id: r.id,
          url: r.url,
          accelerator: r.accelerator,
          in_flight: r.inFlight,
          ejected: r.ejectedUntil > now,
          routable: s.replicas.includes(r),
          revision: r.revision,
        }))
        .sort((a, b) => a.id - b.id),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { version: table.version, services };
}

/** In-flight per service (for the metrics gauge). */
export function inFlightByService<U>(table: RouteTable<U>): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of table.services.values()) {
    let n = 0;
    for (const r of s.all) n += r.inFlight;
    m.set(s.name, n);
  }
  return m;
}

/**
 * Merge the views of several cluster workers: in-flight and held summed, a replica counts as ejected
 * if any worker ejected it, version = the lowest (every worker has applied at least that).
 */
export function mergeViews(views: RoutesView[]): RoutesView {
  if (views.length === 0) return { version: 0, services: [] };
  const out: RoutesView = structuredClone(views[0]);
  for (const v of views.slice(1)) {
    out.version = Math.min(out.version, v.version);
    for (const s of v.services) {
      const mine = out.services.find((x) => x.name === s.name);
      if (!mine) {
        out.services.push(structuredClone(s));
        continue;
      }
      mine.held += s.held;
      for (const r of s.replicas) {
        const mr = mine.replicas.find((x) => x.key === r.key);
        if (!mr) mine.replicas.push({ ...r });
        else {
          mr.in_flight += r.in_flight;
          mr.ejected ||= r.ejected;
          mr.routable &&= r.routable;
        }
      }
    }
  }
  return out;
}
