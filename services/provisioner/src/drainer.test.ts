import { LOAD_SCHEMA_VERSION, type LoadReport } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { Drainer, type DrainOutcome } from "./drainer.js";

const INTERVAL = 200;
const report = (inFlight: number): LoadReport => ({
  schema: LOAD_SCHEMA_VERSION,
  proxy_id: "p1",
  service: "svc",
  seq: 1,
  interval_ms: INTERVAL,
  requests: 0,
  in_flight: { "7": inFlight },
  held: 0,
  sent_at: new Date(0).toISOString(),
});

/**
 * A provisioner whose own event loop stalled (a restart's host scan) past a proxy's three
 * intervals, with that proxy's next reports still unread in its socket: the proxy only looks
 * silent. `heardAll` stands for the bus round trip that delivers them.
 */
function stalled(heardAll?: () => Promise<void>) {
  let now = 0;
  const drainer = new Drainer({ now: () => now, warmupMs: 3 * INTERVAL, heardAll });
  drainer.report(report(1));
  now = 10 * INTERVAL; // the stall: nothing was heard meanwhile
  const outcomes: DrainOutcome[] = [];
  void drainer
    .wait("svc.7", { service: "svc", id: 7, since: 0, deadline: 60_000, progress: () => {} })
    .then((o) => outcomes.push(o));
  return { drainer, outcomes, report: (n: number) => drainer.report(report(n)) };
}

const tick = () => new Promise((res) => setImmediate(res));

describe("Drainer: a stall of its own is not a proxy's silence", () => {
  it("the reports the round trip delivers keep the replica draining", async () => {
    /** What the proxy reported meanwhile, unread in the socket until the round trip's answer. */
    let unread: number | null = 1;
    let deliver = () => {};
    const s = stalled(
      () =>
        new Promise<void>((res) => {
          deliver = () => {
            if (unread !== null) s.report(unread);
            unread = null;
            res();
          };
        }),
    );
    await tick();
    expect(s.outcomes).toEqual([]);
    deliver();
    await tick();
    expect(s.outcomes).toEqual([]);
    s.report(0);
    await tick();
    expect(s.outcomes).toEqual([]); // idle now: confirmed by another round trip first
    deliver();
    await tick();
    expect(s.outcomes).toMatchObject([{ outcome: "idle", inFlight: 0 }]);
    s.drainer.abortAll();
  });

  it("a proxy still silent after the round trip counts as drained", async () => {
    const s = stalled(() => Promise.resolve());
    await tick();
    expect(s.outcomes).toMatchObject([{ outcome: "idle" }]);
  });

  it("without heardAll (tests of the pure parts) the verdict is acted on at once", async () => {
    const s = stalled();
    await tick();
    expect(s.outcomes).toMatchObject([{ outcome: "idle" }]);
  });
});
