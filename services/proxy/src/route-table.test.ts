import type { EndpointRecord, ServiceRoute } from "@switchyard/contracts";
import { endpointRecord, routeRecord } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import { Lease } from "./lease.js";
import { RouteTable } from "./route-table.js";
import { mergeViews, routesView } from "./routes-view.js";

// The tables below name endpoints and routes positionally; the builders make whole records.
const ep = (service: string, id: number, url: string, accelerator: string | null = null) =>
  endpointRecord({ service, replica_id: id, url, accelerator });
const route = (
  name: string,
  policy: ServiceRoute["load_balancing_policy"],
  target: ServiceRoute["target_qps_per_replica"] = null,
) => routeRecord({ name, load_balancing_policy: policy, target_qps_per_replica: target });

function table() {
  const opened: string[] = [];
  const closed: string[] = [];
  const t = new RouteTable<string>({
    open: (u) => {
      opened.push(u);
      return u;
    },
    close: (u) => closed.push(u),
    random: () => 0,
  });
  return { t, opened, closed };
}

/** A request reached this replica: its pool is opened (pools open at first use). */
function touch(t: RouteTable<string>, service: string, key: string): void {
  void t.get(service)?.all.find((r) => r.key === key)?.upstream;
}

type Op =
  | ["put", string, EndpointRecord, number]
  | ["del", string, number]
  | ["svc", ServiceRoute]
  | ["delsvc", string];

describe("RouteTable", () => {
  it.each<{ name: string; ops: Op[]; want: Record<string, string[]>; version: number; closed: string[] }>([
    {
      name: "endpoints appear under their service",
      ops: [
        ["put", "llm.1", ep("llm", 1, "http://h:1"), 3],
        ["put", "llm.2", ep("llm", 2, "http://h:2"), 4],
        ["put", "emb.1", ep("emb", 1, "http://h:3"), 5],
      ],
      want: { emb: ["http://h:3"], llm: ["http://h:1", "http://h:2"] },
      version: 5,
      closed: [],
    },
    {
      name: "a deleted endpoint leaves, its pool is closed, an empty undeclared service disappears",
      ops: [
        ["put", "llm.1", ep("llm", 1, "http://h:1"), 3],
        ["del", "llm.1", 7],
      ],
      want: {},
      version: 7,
      closed: ["http://h:1"],
    },
    {
      name: "a declared service stays (503, not 404) without endpoints",
      ops: [
        ["svc", route("llm", "round_robin")],
        ["put", "llm.1", ep("llm", 1, "http://h:1"), 3],
        ["del", "llm.1", 4],
      ],
      want: { llm: [] },
      version: 4,
      closed: ["http://h:1"],
    },
    {
      name: "a re-put with the same URL keeps the replica (no new pool)",
      ops: [
        ["put", "llm.1", ep("llm", 1, "http://h:1"), 3],
        ["put", "llm.1", ep("llm", 1, "http://h:1", "L4"), 4],
      ],
      want: { llm: ["http://h:1"] },
      version: 4,
      closed: [],
    },
    {
      name: "a re-put with a new URL replaces the replica",
      ops: [
        ["put", "llm.1", ep("llm", 1, "http://h:1"), 3],
        ["put", "llm.1", ep("llm", 1, "http://h:9"), 4],
      ],
      want: { llm: ["http://h:9"] },
      version: 4,
      closed: ["http://h:1"],
    },
    {
      name: "deleting a service keeps its live endpoints routable until they go",
      ops: [
        ["svc", route("llm", "least_load")],
        ["put", "llm.1", ep("llm", 1, "http://h:1"), 3],
        ["delsvc", "llm"],
      ],
      want: { llm: ["http://h:1"] },
      version: 3,
      closed: [],
    },
  ])("$name", ({ ops, want, version, closed }) => {
    const { t, closed: c } = table();
    for (const op of ops) {
      if (op[0] === "put") {
        t.putEndpoint(op[1], op[2], op[3]);
        touch(t, op[2].service, op[1]);
      } else if (op[0] === "del") t.deleteEndpoint(op[1], op[2]);
      else if (op[0] === "svc") t.putService(op[1]);
      else t.deleteService(op[1]);
    }
    const got = Object.fromEntries(
      routesView(t, 0).services.map((s) => [s.name, s.replicas.map((r) => r.url)]),
    );
    expect(got).toEqual(want);
    expect(t.version).toBe(version);
    expect(c).toEqual(closed);
  });

  it("applies the service's policy and target QPS per accelerator", () => {
    const { t } = table();
    t.putEndpoint("llm.1", ep("llm", 1, "http://h:1", "L4"), 1);
    t.putEndpoint("llm.2", ep("llm", 2, "http://h:2", "A100"), 2);
    expect(t.get("llm")?.policyName).toBe("least_load");
    t.putService(route("llm", "instance_aware_least_load", { L4: 2, A100: 10 }));
    const s = t.get("llm")!;
    expect(s.policyName).toBe("instance_aware_least_load");
    expect(Object.fromEntries(s.replicas.map((r) => [r.key, r.targetQps]))).toEqual({
      "llm.1": 2,
      "llm.2": 10,
    });
  });

  it("an ejection ends when the endpoint is re-put", () => {
    const { t } = table();
    t.putEndpoint("llm.1", ep("llm", 1, "http://h:1"), 1);
    const r = t.get("llm")!.replicas[0];
    t.eject(r, 5_000);
    expect(routesView(t, 1_000).services[0].replicas[0].ejected).toBe(true);
    t.putEndpoint("llm.1", ep("llm", 1, "http://h:1"), 2);
    expect(routesView(t, 1_000).services[0].replicas[0].ejected).toBe(false);
  });

  it("the only service is found only when there is exactly one", () => {
    const { t } = table();
    expect(t.only()).toBeUndefined();
    t.putEndpoint("llm.1", ep("llm", 1, "http://h:1"), 1);
    expect(t.only()?.name).toBe("llm");
    t.putEndpoint("emb.1", ep("emb", 1, "http://h:2"), 2);
    expect(t.only()).toBeUndefined();
  });

  it("least_load counters stay exact across churn: a re-added replica starts at 0, old leases cannot drive it negative", () => {
    const { t } = table();
    t.putEndpoint("llm.1", ep("llm", 1, "http://h:1"), 1);
    const old = t.get("llm")!.replicas[0];
    const leases = [new Lease(old), new Lease(old)];
    t.deleteEndpoint("llm.1", 2);
    t.putEndpoint("llm.1", ep("llm", 1, "http://h:1"), 3);
    const fresh = t.get("llm")!.replicas[0];
    expect(fresh).not.toBe(old);
    const l3 = new Lease(fresh);
    for (const l of leases) {
      l.release();
      l.release();
    }
    expect(fresh.inFlight).toBe(1);
    l3.release();
    expect(routesView(t, 0).services[0].replicas[0].in_flight).toBe(0);
  });

  it("/-/routes shows each service's held requests; the cluster view sums them over workers", () => {
    const { t } = table();
    t.putService(route("idle", "least_load"));
    t.putEndpoint("llm.1", ep("llm", 1, "http://h:1"), 1);
    const held = (s: string) => (s === "idle" ? 2 : 0);
    const one = routesView(t, 0, held);
    expect(one.services.map((s) => [s.name, s.held])).toEqual([
      ["idle", 2],
      ["llm", 0],
    ]);
    expect(mergeViews([one, one]).services.map((s) => [s.name, s.held])).toEqual([
      ["idle", 4],
      ["llm", 0],
    ]);
  });

  it("scale-from-zero: min_replicas 0 marks the service; a new replica and a removed service are told", () => {
    const told: string[] = [];
    const t = new RouteTable<string>({
      open: (u) => u,
      close: () => {},
      routable: (s) => told.push(`routable ${s}`),
      removed: (s) => told.push(`removed ${s}`),
    });
    const policy = routeRecord().replica_policy!;
    t.putService(
      routeRecord({ name: "idle", replica_policy: { ...policy, min_replicas: 0, max_replicas: 3 } }),
    );
    t.putService(routeRecord({ name: "fixed" }));
    t.putService(routeRecord({ name: "old", replica_policy: undefined })); // a route from before the autoscaler
    expect([...t.services.values()].map((s) => [s.name, s.scalesToZero])).toEqual([
      ["idle", true],
      ["fixed", false],
      ["old", false],
    ]);
    t.putEndpoint("idle.1", ep("idle", 1, "http://h:1"), 1);
    t.putEndpoint("idle.1", ep("idle", 1, "http://h:1"), 2); // re-announced: nothing new to route
    t.deleteEndpoint("idle.1", 3);
    t.deleteService("idle");
    t.deleteService("fixed");
    expect(told).toEqual(["routable idle", "removed idle", "removed fixed"]);
    t.putService(routeRecord({ name: "old" }));
    expect(t.get("old")?.scalesToZero).toBe(false);
  });
});

describe("RouteTable: drains and blue-green", () => {
  const at = (id: number, revision: number, draining = false) =>
    endpointRecord({ service: "llm", replica_id: id, url: `http://h:${id}`, revision, draining });
  const routed = (t: RouteTable<string>) => t.get("llm")!.replicas.map((r) => r.id);
  const bg = (revision: number, min = 2) =>
    routeRecord({
      name: "llm",
      revision,
      update_mode: "blue_green",
      replica_policy: { ...routeRecord().replica_policy!, min_replicas: min, max_replicas: min },
    });

  it("a draining endpoint takes no new request but stays counted, with its pool open, until deleted", () => {
    const { t, closed } = table();
    t.putEndpoint("llm.1", at(1, 1), 1);
    t.putEndpoint("llm.2", at(2, 1), 2);
    t.get("llm")!.replicas[0].inFlight = 3;
    touch(t, "llm", "llm.1");
    t.putEndpoint("llm.1", at(1, 1, true), 3);
    expect(routed(t)).toEqual([2]);
    expect(t.get("llm")!.all.map((r) => [r.id, r.inFlight])).toEqual([
      [1, 3],
      [2, 0],
    ]);
    expect(closed).toEqual([]);
    expect(routesView(t, 0).services[0].replicas.map((r) => [r.id, r.routable])).toEqual([
      [1, false],
      [2, true],
    ]);
    t.deleteEndpoint("llm.1", 4);
    expect(closed).toEqual(["http://h:1"]);
  });

  it("blue-green: the old revision alone until min_replicas of the new are ready, then the new alone, for good", () => {
    const { t } = table();
    t.putService(bg(2));
    t.putEndpoint("llm.1", at(1, 1), 1);
    t.putEndpoint("llm.2", at(2, 1), 2);
    t.putEndpoint("llm.3", at(3, 2), 3);
    expect(routed(t)).toEqual([1, 2]);
    t.putEndpoint("llm.4", at(4, 2), 4);
    expect(routed(t)).toEqual([3, 4]);
    // One of the new ones goes unready before the old set drains: no way back to the old one.
    t.deleteEndpoint("llm.4", 5);
    expect(routed(t)).toEqual([3]);
  });

  it("rolling (or no mode): every ready revision; a revision newer than the route waits for it", () => {
    const { t } = table();
    t.putService(routeRecord({ name: "llm", revision: 1 }));
    t.putEndpoint("llm.1", at(1, 1), 1);
    t.putEndpoint("llm.2", at(2, 2), 2);
    expect(routed(t)).toEqual([1]);
    t.putService(routeRecord({ name: "llm", revision: 2 }));
    expect(routed(t)).toEqual([1, 2]);
  });

  it("a scale relabelled every replica before its route came: they serve meanwhile (rolling), not in blue-green", () => {
    const { t } = table();
    t.putService(routeRecord({ name: "llm", revision: 1 }));
    t.putEndpoint("llm.1", at(1, 1), 1);
    t.putEndpoint("llm.1", at(1, 2), 2);
    expect(routed(t)).toEqual([1]);
    const g = table().t;
    g.putService(bg(1));
    g.putEndpoint("llm.1", at(1, 1), 1);
    g.putEndpoint("llm.1", at(1, 2), 2);
    expect(routed(g)).toEqual([]);
  });

  it("a replica joining the routable set frees held requests (routable hook)", () => {
    const joined: string[] = [];
    const t = new RouteTable<string>({ open: (u) => u, close: () => {}, routable: (s) => joined.push(s) });
    t.putService(bg(2, 1));
    t.putEndpoint("llm.1", at(1, 1, true), 1);
    expect(joined).toEqual([]);
    t.putEndpoint("llm.2", at(2, 2), 2);
    expect(joined).toEqual(["llm"]);
  });

  it("opens a replica's pool at its first request, not with its endpoint; one never used leaves with nothing to close", () => {
    const { t, opened, closed } = table();
    for (let i = 1; i <= 100; i++) t.putEndpoint(`llm.${i}`, ep("llm", i, `http://h:${i}`), i);
    expect(opened).toEqual([]);
    const r = t.get("llm")!.replicas.find((x) => x.id === 7)!;
    expect(r.upstream).toBe("http://h:7");
    expect(r.upstream).toBe("http://h:7");
    expect(opened).toEqual(["http://h:7"]);
    t.deleteEndpoint("llm.1", 101);
    t.deleteEndpoint("llm.7", 102);
    expect(closed).toEqual(["http://h:7"]);
    // A request still holding the removed replica gets a closed pool, never one left open.
    const gone = t.get("llm")!.all.length;
    t.putEndpoint("llm.1", ep("llm", 1, "http://h:1"), 103);
    t.deleteEndpoint("llm.1", 104);
    expect(t.get("llm")!.all.length).toBe(gone);
  });

  it("a batch gives the same routes as the changes one by one, and frees held requests only at its end", () => {
    const ops = (t: RouteTable<string>) => {
      t.putService(bg(2));
      t.putService(route("emb", "round_robin"));
      t.putEndpoint("llm.1", at(1, 1), 1);
      t.putEndpoint("llm.2", at(2, 1), 2);
      t.putEndpoint("llm.3", at(3, 2), 3);
      t.putEndpoint("llm.4", at(4, 2), 4);
      t.putEndpoint("emb.1", ep("emb", 1, "http://e:1"), 5);
      t.putEndpoint("emb.2", ep("emb", 2, "http://e:2"), 6);
      t.putEndpoint(
        "emb.2",
        endpointRecord({ service: "emb", replica_id: 2, url: "http://e:2", draining: true }),
        7,
      );
      t.putEndpoint("old.1", ep("old", 1, "http://o:1"), 8);
      t.deleteEndpoint("old.1", 9);
    };
    const joined: string[] = [];
    const one = new RouteTable<string>({ open: (u) => u, close: () => {}, random: () => 0 });
    const batched = new RouteTable<string>({
      open: (u) => u,
      close: () => {},
      random: () => 0,
      routable: (s) => joined.push(s),
    });
    ops(one);
    batched.beginBatch();
    ops(batched);
    expect(joined).toEqual([]);
    batched.endBatch();
    expect(joined.sort()).toEqual(["emb", "llm"]);
    expect(routesView(batched, 0)).toEqual(routesView(one, 0));
    expect(routed(batched)).toEqual([3, 4]);
  });
});
