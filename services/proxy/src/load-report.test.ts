import { LoadReport, MAX_REPORT_REPLICAS } from "@switchyard/contracts";
import { endpointRecord, routeRecord } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import { Lease } from "./lease.js";
import { LoadReports, proxyIdOf } from "./load-report.js";
import { RouteTable } from "./route-table.js";

const T0 = Date.parse("2025-01-01T00:00:00.000Z");

/** A real route table with services a (replicas 1, 2) and z (declared, no replica). */
function world() {
  const t = new RouteTable<string>({ open: (u) => u, close: () => {}, random: () => 0 });
  t.putService(routeRecord({ name: "a" }));
  t.putService(routeRecord({ name: "z" }));
  t.putEndpoint("a.1", endpointRecord({ service: "a", replica_id: 1, url: "http://127.0.0.1:1" }), 1);
  t.putEndpoint("a.2", endpointRecord({ service: "a", replica_id: 2, url: "http://127.0.0.1:2" }), 2);
  return t;
}

/** The fields a row checks, per service, in the order the reports came. */
const brief = (rs: LoadReport[]) =>
  rs.map((r) => ({
    service: r.service,
    seq: r.seq,
    requests: r.requests,
    in_flight: r.in_flight,
    held: r.held,
  }));

type Step =
  | { req: string; n?: number }
  | { lease: string; id: number }
  | { tick: ReturnType<typeof brief> }
  | { demand: string; held: number; want: ReturnType<typeof brief>[number] | null }
  | { drop: string };

describe("LoadReports", () => {
  it.each<{ name: string; steps: Step[] }>([
    {
      name: "every routed service reports each tick, zeros included; counts start again",
      steps: [
        { req: "a", n: 3 },
        {
          tick: [
            { service: "a", seq: 1, requests: 3, in_flight: { "1": 0, "2": 0 }, held: 0 },
            { service: "z", seq: 1, requests: 0, in_flight: {}, held: 0 },
          ],
        },
        {
          tick: [
            { service: "a", seq: 2, requests: 0, in_flight: { "1": 0, "2": 0 }, held: 0 },
            { service: "z", seq: 2, requests: 0, in_flight: {}, held: 0 },
          ],
        },
      ],
    },
    {
      name: "in-flight per replica comes from the leases (a retry is not a request)",
      steps: [
        { req: "a" },
        { lease: "a", id: 2 },
        { lease: "a", id: 2 },
        {
          tick: [
            { service: "a", seq: 1, requests: 1, in_flight: { "1": 0, "2": 2 }, held: 0 },
            { service: "z", seq: 1, requests: 0, in_flight: {}, held: 0 },
          ],
        },
      ],
    },
    {
      name: "demand: one report at once with the held count and the next seq; its requests are not counted twice",
      steps: [
        { req: "z", n: 2 },
        { demand: "z", held: 1, want: { service: "z", seq: 1, requests: 2, in_flight: {}, held: 1 } },
        { req: "z" },
        { demand: "z", held: 2, want: null }, // one early report per interval is enough
        {
          tick: [
            { service: "a", seq: 1, requests: 0, in_flight: { "1": 0, "2": 0 }, held: 0 },
            { service: "z", seq: 2, requests: 1, in_flight: {}, held: 2 },
          ],
        },
        { demand: "z", held: 3, want: { service: "z", seq: 3, requests: 0, in_flight: {}, held: 3 } },
      ],
    },
    {
      name: "a service that left the table sends its last count once, then starts again at seq 1",
      steps: [
        { req: "z" },
        {
          tick: [
            { service: "a", seq: 1, requests: 0, in_flight: { "1": 0, "2": 0 }, held: 0 },
            { service: "z", seq: 1, requests: 1, in_flight: {}, held: 0 },
          ],
        },
        { req: "z", n: 4 },
        { drop: "z" },
        {
          tick: [
            { service: "a", seq: 2, requests: 0, in_flight: { "1": 0, "2": 0 }, held: 0 },
            { service: "z", seq: 2, requests: 4, in_flight: {}, held: 0 },
          ],
        },
        { tick: [{ service: "a", seq: 3, requests: 0, in_flight: { "1": 0, "2": 0 }, held: 0 }] },
        { req: "z" },
        {
          tick: [
            { service: "a", seq: 4, requests: 0, in_flight: { "1": 0, "2": 0 }, held: 0 },
            { service: "z", seq: 1, requests: 1, in_flight: {}, held: 0 },
          ],
        },
      ],
    },
  ])("$name", ({ steps }) => {
    const t = world();
    const held = new Map<string, number>();
    const lr = new LoadReports("host-1:42", 1000);
    let now = T0;
    for (const s of steps) {
      if ("req" in s) for (let i = 0; i < (s.n ?? 1); i++) lr.request(s.req);
      else if ("lease" in s) new Lease(t.get(s.lease)!.replicas.find((r) => r.id === s.id)!);
      else if ("drop" in s) t.deleteService(s.drop);
      else if ("demand" in s) {
        held.set(s.demand, s.held);
        const r = lr.demand(t.get(s.demand)!, s.held, now);
        expect(r && brief([r])[0]).toEqual(s.want);
        if (r) expect(LoadReport.parse(r)).toEqual(r);
      } else {
        now += 1000;
        const rs = [...lr.tick(t.services.values(), (n) => held.get(n) ?? 0, now)];
        expect(brief(rs)).toEqual(s.tick);
        for (const r of rs)
          expect(LoadReport.parse(r)).toMatchObject({
            proxy_id: "host-1:42",
            interval_ms: 1000,
            sent_at: new Date(now).toISOString(),
          });
      }
    }
  });

  it("caps the replicas of one report at the contract's bound", () => {
    const replicas = Array.from({ length: MAX_REPORT_REPLICAS + 5 }, (_, i) => ({ id: i + 1, inFlight: 1 }));
    const [r] = new LoadReports("p:1", 50).tick([{ name: "big", replicas }], () => 0, T0);
    expect(Object.keys(r.in_flight)).toHaveLength(MAX_REPORT_REPLICAS);
    expect(LoadReport.safeParse(r).success).toBe(true);
  });

  it.each([
    ["web-1.example.com", 7, "web-1.example.com:7"],
    ["odd host:name\n", 9, "odd-host-name-:9"],
    ["", 1, "proxy:1"],
    ["h".repeat(300), 123, `${"h".repeat(100)}:123`],
  ])("proxy id of %j and pid %d is %s (the contract accepts it)", (host, pid, want) => {
    expect(proxyIdOf(host, pid)).toBe(want);
    expect(LoadReport.shape.proxy_id.safeParse(want).success).toBe(true);
  });
});
