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
      name: "a routed service reports at first and at the ticks after, zeros included; counts start again",
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

  it("a quiet service is reported by heartbeat; requests, in-flight and route changes bring it back to every tick", () => {
    const t = new RouteTable<string>({ open: (u) => u, close: () => {}, random: () => 0 });
    t.putService(routeRecord({ name: "web" }));
    t.putEndpoint("web.1", endpointRecord({ service: "web", replica_id: 1, url: "http://127.0.0.1:1" }), 1);
    // "web": a name whose heartbeat falls late in its spread (below), so one every 10 ticks.
    const lr = new LoadReports("p:1", 1000, 10_000);
    const sent: { tick: number; seq: number; requests: number; next: number | undefined }[] = [];
    const before: Record<number, () => void> = {
      25: () => lr.request("web"),
      // A lease held over ticks 31-32: in flight, so busy, though no new request.
      31: () => {
        lease = new Lease(t.get("web")!.replicas[0]);
      },
      33: () => lease?.release(),
      // The endpoint is re-put draining: a route change (a drain waits for the report after it).
      50: () =>
        t.putEndpoint(
          "web.1",
          endpointRecord({ service: "web", replica_id: 1, url: "http://127.0.0.1:1", draining: true }),
          2,
        ),
    };
    let lease: Lease | undefined;
    for (let tick = 1; tick <= 60; tick++) {
      before[tick]?.();
      for (const r of lr.tick(t.services.values(), () => 0, T0 + tick * 1000))
        sent.push({ tick, seq: r.seq, requests: r.requests, next: r.next_ms });
    }
    expect(sent.map((s) => s.tick)).toEqual([
      ...[1, 11, 21], // a quiet first report, then one per heartbeat
      ...[25, 26, 27, 28], // a request: reported, then 3 quiet ticks after it
      ...[31, 32, 33, 34, 35, 45], // in flight over 31-32; quiet from 33; a heartbeat 10 s after 35
      ...[50, 51, 52, 53], // the route change, and the 3 ticks after it
    ]);
    expect(sent.map((s) => s.seq)).toEqual(sent.map((_, i) => i + 1)); // no gaps
    const at = (tick: number) => sent.find((s) => s.tick === tick);
    expect(at(25)).toMatchObject({ requests: 1, next: 1000 });
    expect(at(26)).toMatchObject({ requests: 0, next: 10_000 });
    expect(at(32)).toMatchObject({ next: 1000 });
    expect(at(33)).toMatchObject({ next: 10_000 });
  });

  it("10k services gone quiet together spread their heartbeats over half a heartbeat", () => {
    const services = Array.from({ length: 10_000 }, (_, i) => ({
      name: `svc-${i}`,
      replicas: [],
      changes: 0,
    }));
    const lr = new LoadReports("p:1", 1000, 10_000);
    const perTick: string[][] = [];
    for (let tick = 1; tick <= 20; tick++)
      perTick.push([...lr.tick(services, () => 0, T0 + tick * 1000)].map((r) => r.service));
    expect(perTick[0]).toHaveLength(10_000); // each one's first report, quiet: nothing follows it
    // Each service's heartbeat comes 5-10 s after its last report, by its name: all within ticks
    // 6-11 (its half a heartbeat of spread), none in one tick with most of the others.
    expect(perTick.slice(1, 5).flat()).toEqual([]);
    expect(new Set(perTick.slice(5, 11).flat()).size).toBe(10_000);
    const heartbeats = perTick.slice(5, 11).map((t) => t.length);
    expect(Math.max(...heartbeats)).toBeLessThan(2_500); // not 10k in one tick
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
