import { inPhase, type Proc, quietPort, specRecord } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionerSystem } from "./suite.js";

// Issue 8: a spec with a million replicas that reached yard-specs anyway (written straight to
// the bucket, past the spec service's per-service limit) never becomes more than
// YARD_MAX_REPLICAS processes, and they are launched a few at a time.

describe("provisioner: YARD_MAX_REPLICAS and paced launches", { timeout: 120_000 }, () => {
  const w = provisionerSystem();
  let prov: Proc;
  beforeAll(async () => {
    await w.start();
    prov = await w.startService("provisioner", {
      YARD_MAX_REPLICAS: "4",
      YARD_LAUNCHES_PER_INTERVAL: "2",
      YARD_LAUNCH_INTERVAL_MS: "300",
    });
  });
  afterAll(() => w.dispose());

  it("replicas: 1000000 → 4 replica processes, 2 per interval, the rest said to wait in the log", async () => {
    const port = quietPort();
    await w.putSpec(specRecord({ name: "huge", replicas: 1_000_000, port, run: "exec sleep 600" }));

    // The first pass launches 2 and says the rest wait for pacing.
    const paced = JSON.parse(await prov.waitForLine(/"cause":"paced"/));
    expect(paced).toMatchObject({ service: "huge", msg: expect.stringContaining("launches are paced") });

    // Once the cap is reached, the log says so (once), and exactly 4 records and groups exist.
    const capped = JSON.parse(await prov.waitForLine(/"cause":"max_replicas"/));
    expect(capped).toMatchObject({
      service: "huge",
      waiting: 999_996,
      msg: "999996 replica(s) wait: 4 replicas exist across all services (YARD_MAX_REPLICAS)",
    });
    const rs = await w.waitReplicas((r) => inPhase(r, "STARTING").length === 4, "4 replicas STARTING");
    expect(rs.map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect(w.replicaGroups().size).toBe(4);
    // Launch times: the 3rd waited for the first interval to pass.
    const launched = rs.map((r) => Date.parse(r.launched_at!)).sort((a, b) => a - b);
    expect(launched[2]! - launched[0]!).toBeGreaterThanOrEqual(250);
    expect(prov.lines.filter((l) => l.includes('"cause":"max_replicas"'))).toHaveLength(1);
  });
});
