import { silentLogger } from "@switchyard/bus";
import { MAX_BATCH_REPORTS } from "@switchyard/contracts";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connectRouteTable, type ProxyBus, REPORTS_PER_TURN } from "../src/bus.js";
import { LoadReports as ProxyLoads } from "../src/load-report.js";
import { RouteTable } from "../src/route-table.js";
import { LoadReports, TestBus } from "./helpers.js";

// Issue 13: a proxy routing 10k services makes a load report for each every second. Made and
// sent at once, that held its requests and streams up for tens of milliseconds; now a tick goes
// out a slice per event-loop turn, through a real nats-server, and an early (demand) report
// made in the middle of one still reaches the autoscaler in each service's `seq` order.
const SERVICES = 5_000;
let bus: TestBus;
let heard: LoadReports;
let feed: ProxyBus;

beforeAll(async () => {
  bus = await TestBus.start();
  heard = new LoadReports(bus.nc);
  feed = await connectRouteTable(
    bus.nc,
    new RouteTable<string>({ open: (u) => u, close: () => {} }),
    silentLogger,
  );
  await feed.ready;
});
afterAll(async () => {
  heard?.stop();
  feed?.stop();
  await bus?.close();
});

it(`sends a ${SERVICES}-service tick over many event-loop turns, and a demand report made during it keeps each service's seq in order`, async () => {
  const load = new ProxyLoads("tick-test:1", 1_000);
  const services = Array.from({ length: SERVICES }, (_, i) => ({
    name: `svc-${i}`,
    replicas: [{ id: 1, inFlight: i % 3 }],
  }));
  // Whatever else the event loop has to do (here: count its turns) runs while the tick is sent.
  let turns = 0;
  let counting = true;
  const count = () => {
    if (!counting) return;
    turns++;
    setImmediate(count);
  };
  setImmediate(count);
  const ticked = feed.tick(load.tick(services, () => 0, Date.now()));
  await new Promise((r) => setImmediate(r));
  // Requests held at zero replicas now: svc-0's tick report is made already, svc-4999's is not.
  for (const name of ["svc-0", `svc-${SERVICES - 1}`]) {
    const r = load.demand({ name, replicas: [] }, 1, Date.now());
    expect(r).not.toBeNull();
    feed.demand(r!);
  }
  await ticked;
  counting = false;
  expect(turns).toBeGreaterThanOrEqual(Math.floor(SERVICES / REPORTS_PER_TURN) - 1);

  // The last report made is the tick's for the last service; nothing after it.
  await heard.wait("last of the tick", (r) => r.service === `svc-${SERVICES - 1}` && r.seq === 2);
  expect(heard.all).toHaveLength(SERVICES + 2);
  const seqs = new Map<string, number[]>();
  for (const r of heard.all) seqs.set(r.service, [...(seqs.get(r.service) ?? []), r.seq]);
  expect(seqs.size).toBe(SERVICES);
  expect(seqs.get("svc-0")).toEqual([1, 2]);
  expect(seqs.get(`svc-${SERVICES - 1}`)).toEqual([1, 2]);
  for (const [name, s] of seqs)
    if (name !== "svc-0" && name !== `svc-${SERVICES - 1}`) expect(s).toEqual([1]);
  expect(heard.all.find((r) => r.service === "svc-2")?.in_flight).toEqual({ "1": 2 });
  expect(heard.batches.length).toBeGreaterThanOrEqual(Math.ceil(SERVICES / MAX_BATCH_REPORTS));
  expect(heard.malformed).toEqual([]);
});
