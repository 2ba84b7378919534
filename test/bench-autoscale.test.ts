import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTs } from "@switchyard/testkit";
import { afterAll, describe, expect, it } from "vitest";

/**
 * `pnpm bench autoscale --quick` end to end (real nats-server, services, proxies and fake
 * engines): the output is right, whatever the machine's speed. Speed is the bench's business.
 */
const out = mkdtempSync(join(tmpdir(), "yard-bench-autoscale-test-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const finite = (x: unknown) => typeof x === "number" && Number.isFinite(x) && x >= 0;

describe("pnpm bench autoscale --quick", () => {
  it("prints progress, writes the ramp's table, CSV and PNG, and ends with one JSON line where no request failed", async () => {
    const bench = startTs("bench/src/main.ts", ["autoscale", "--quick", "--out", out]);
    const code = await Promise.race([
      bench.exited,
      new Promise((r) => setTimeout(() => r("timeout"), 110_000)),
    ]);
    if (code === "timeout") await bench.stop(5_000);
    const all = bench.lines.join("\n");
    expect(code, all).toBe(0);
    for (const step of ["(a) scale-from-zero", "(b) reaction", "(c) a ramp"]) expect(all).toContain(step);
    expect(all).toContain(`results: ${out}`);

    const f = JSON.parse(bench.lines.filter((l) => l.trim()).at(-1)!);
    expect(f).toMatchObject({
      bench: "autoscale",
      mode: "quick",
      results_dir: out,
      png: join(out, "ramp.png"),
    });
    expect(f.requests.failed).toBe(0);
    expect(f.requests.total).toBeGreaterThan(0);

    // (a) The first request was held through the engine's cold start (≥ its --startup-delay-ms), never a 503.
    const a = f.scale_from_zero;
    expect(a.failed).toBe(0);
    expect(a.total_ms).toBeGreaterThanOrEqual(f.settings.engine_startup_delay_ms);
    for (const k of ["total_ms", "engine_cold_start_ms", "overhead_ms", "overhead_less_probe_wait_ms"])
      expect(finite(a[k]), k).toBe(true);
    expect(Object.keys(a.breakdown_ms).sort()).toEqual(
      [
        "decision_to_launch",
        "launch_to_run",
        "probe_wait",
        "ready_to_routed",
        "routed_to_first_byte",
        "request_to_decision",
      ].sort(),
    );
    expect(Object.values(a.breakdown_ms).every((x) => typeof x === "number" && Number.isFinite(x))).toBe(
      true,
    );

    // (b) Decided, then routed (after the decision), and the new replicas served part of the load.
    const b = f.reaction;
    expect(b.failed).toBe(0);
    for (const k of [
      "decision_ms",
      "full_decision_ms",
      "first_routed_ms",
      "all_routed_ms",
      "first_served_ms",
    ])
      expect(finite(b[k]), k).toBe(true);
    expect(b.first_routed_ms).toBeGreaterThan(b.decision_ms);
    expect(b.first_served_ms).toBeGreaterThan(b.decision_ms);
    expect(b.served_by_new_replicas).toBeGreaterThan(0);

    // (c) The ramp left zero, came back to it, and its figures add up.
    const c = f.ramp;
    expect(c.failed).toBe(0);
    expect(c.max_ready).toBeGreaterThanOrEqual(1);
    expect(finite(c.back_to_zero_s)).toBe(true);
    expect(c.under_replica_s + c.over_replica_s).toBeGreaterThanOrEqual(
      Math.abs(c.ideal_replica_s - c.ready_replica_s) - 0.2,
    );

    const png = readFileSync(f.png);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.subarray(12, 16).toString("latin1")).toBe("IHDR");
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([960, 440]);
    const table = readFileSync(join(out, "ramp.txt"), "utf8").trim().split("\n");
    expect(table[0].trim().split(/\s+/)).toEqual(["t", "s", "QPS", "ideal", "target", "ready"]);
    expect(table.length).toBeGreaterThan(3);
    const csv = readFileSync(join(out, "ramp.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe("t_s,qps,ideal,target,ready");
    expect(JSON.parse(readFileSync(join(out, "figures.json"), "utf8"))).toEqual(f);
  }, 120_000);
});
