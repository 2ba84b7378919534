import { LOAD_SCHEMA_VERSION, type LoadReport } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { DRAIN_SETTLE_MS, type DrainQuery, drainVerdict, type HeardReport, ProxyLoads } from "./drain.js";

const SINCE = 100_000;
const q = (o: Partial<DrainQuery> = {}): DrainQuery => ({
  id: 7,
  since: SINCE,
  deadline: SINCE + 120_000,
  now: SINCE + 5_000,
  listeningSince: 0,
  warmupMs: 3_000,
  ...o,
});
const heard = (
  at: number,
  inFlight: Record<string, number> = {},
  intervalMs = 1_000,
  nextMs = intervalMs,
): HeardReport => ({ at, intervalMs, nextMs, inFlight });
const proxies = (...ps: HeardReport[]) => new Map(ps.map((p, i) => [`p${i}`, p]));

describe("drainVerdict", () => {
  it.each<{ name: string; q: DrainQuery; proxies: Map<string, HeardReport>; want: unknown }>([
    {
      name: "no proxy, listened long enough → idle at once",
      q: q({ now: SINCE }),
      proxies: proxies(),
      want: { done: true, outcome: "idle", inFlight: 0 },
    },
    {
      name: "no proxy heard yet, just started → wait for the warm-up",
      q: q({ now: SINCE, listeningSince: SINCE - 1_000 }),
      proxies: proxies(),
      want: { done: false, inFlight: null, waitingOn: 1, recheckAt: SINCE + 2_000 },
    },
    {
      name: "a report made after the proxy took it out, zero in flight → idle",
      q: q({ now: SINCE + 1_200 }),
      proxies: proxies(heard(SINCE + 1_100, { "7": 0, "8": 4 })),
      want: { done: true, outcome: "idle", inFlight: 0 },
    },
    {
      name: "zero in a report older than one interval after the drain → not counted yet",
      q: q({ now: SINCE + 900 }),
      proxies: proxies(heard(SINCE + 800, {})),
      want: { done: false, inFlight: 0, waitingOn: 1, recheckAt: SINCE + 3_800 },
    },
    {
      name: "short intervals still wait DRAIN_SETTLE_MS",
      q: q({ now: SINCE + 300 }),
      proxies: proxies(heard(SINCE + 200, {}, 100)),
      want: { done: false, inFlight: 0, waitingOn: 1, recheckAt: SINCE + 500 },
    },
    {
      name: "requests in flight on it → wait; the sum over proxies",
      q: q(),
      proxies: proxies(heard(SINCE + 4_900, { "7": 2 }), heard(SINCE + 4_500, { "7": 1 })),
      want: { done: false, inFlight: 3, waitingOn: 2, recheckAt: SINCE + 7_500 },
    },
    {
      name: "one proxy done, one still busy → wait for that one",
      q: q(),
      proxies: proxies(heard(SINCE + 4_900, { "7": 0 }), heard(SINCE + 4_500, { "7": 1 })),
      want: { done: false, inFlight: 1, waitingOn: 1, recheckAt: SINCE + 7_500 },
    },
    {
      name: "a proxy silent for 3 intervals counts as drained (its requests died with it)",
      q: q({ now: SINCE + 8_000 }),
      proxies: proxies(heard(SINCE + 4_900, { "7": 0 }), heard(SINCE + 4_500, { "7": 5 })),
      want: { done: true, outcome: "idle", inFlight: 0 },
    },
    {
      name: "a quiet proxy (heartbeat 10 s) heard before the drain is not silent after 3 intervals: wait for its report",
      q: q({ now: SINCE + 8_000 }),
      proxies: proxies(heard(SINCE - 2_000, { "7": 0 }, 1_000, 10_000)),
      want: { done: false, inFlight: 0, waitingOn: 1, recheckAt: SINCE + 28_000 },
    },
    {
      name: "... until it reports after taking the replica out (routes changed: it reports at once)",
      q: q({ now: SINCE + 1_100 }),
      proxies: proxies(heard(SINCE + 1_050, { "7": 0 }, 1_000, 10_000)),
      want: { done: true, outcome: "idle", inFlight: 0 },
    },
    {
      name: "a quiet proxy silent for 3 heartbeats is gone",
      q: q({ now: SINCE + 29_000 }),
      proxies: proxies(heard(SINCE - 2_000, { "7": 0 }, 1_000, 10_000)),
      want: { done: true, outcome: "idle", inFlight: 0 },
    },
    {
      name: "the deadline → timeout with what is still in flight",
      q: q({ now: SINCE + 120_000 }),
      proxies: proxies(heard(SINCE + 119_500, { "7": 2 })),
      want: { done: true, outcome: "timeout", inFlight: 2 },
    },
  ])("$name", ({ q, proxies, want }) => {
    expect(drainVerdict(q, proxies)).toEqual(want);
  });

  it("DRAIN_SETTLE_MS is at least a few watch round trips", () => {
    expect(DRAIN_SETTLE_MS).toBeGreaterThanOrEqual(100);
  });
});

describe("ProxyLoads", () => {
  const report = (proxy: string, inFlight: Record<string, number>, nextMs?: number): LoadReport => ({
    schema: LOAD_SCHEMA_VERSION,
    proxy_id: proxy,
    service: "svc",
    seq: 1,
    interval_ms: 1_000,
    ...(nextMs === undefined ? {} : { next_ms: nextMs }),
    requests: 0,
    in_flight: inFlight,
    held: 0,
    sent_at: "2026-01-01T00:00:00.000Z",
  });

  it("keeps each proxy's latest report per service, and forgets silent proxies when a new one comes", () => {
    const l = new ProxyLoads(0);
    l.report(report("a", { "1": 2 }), 1_000);
    l.report(report("a", { "1": 0 }), 2_000);
    l.report(report("b", { "1": 1 }), 2_000);
    expect([...l.of("svc").keys()]).toEqual(["a", "b"]);
    expect(l.of("svc").get("a")).toEqual({
      at: 2_000,
      intervalMs: 1_000,
      nextMs: 1_000,
      inFlight: { "1": 0 },
    });
    l.report(report("c", {}), 10_000);
    expect([...l.of("svc").keys()]).toEqual(["c"]);
    expect(l.of("other").size).toBe(0);
  });

  it("a quiet proxy (next_ms: its heartbeat) is kept while its heartbeat may still come", () => {
    const l = new ProxyLoads(0);
    l.report(report("quiet", {}, 10_000), 1_000);
    l.report(report("busy", { "1": 1 }), 1_000);
    l.report(report("new", {}), 10_000); // busy's 3 intervals passed, quiet's 3 heartbeats did not
    expect([...l.of("svc").keys()]).toEqual(["quiet", "new"]);
    l.report(report("newer", {}), 31_000);
    expect([...l.of("svc").keys()]).toEqual(["newer"]); // quiet's 3 heartbeats passed too
  });
});
