import { startTs } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";

/**
 * `pnpm bench scale --quick` end to end (real nats-server, proxies and fake engines, at a tiny
 * size): the tool runs and its figures are whole, whatever the machine's speed. The streams go
 * through a proxy of 2 processes, as the full run does where one process's open-file limit
 * cannot hold 10k streams. Whether they
 * meet the targets is the bench's business, not this test's.
 */
const finite = (x: unknown) => typeof x === "number" && Number.isFinite(x);

describe("pnpm bench scale --quick --stream-workers 2", () => {
  it("routes the whole fleet, fans changes out to every proxy, streams through a 2-process proxy with none failed, and ends with one JSON line", async () => {
    const bench = startTs("bench/src/main.ts", ["scale", "--quick", "--stream-workers", "2"]);
    const code = await Promise.race([
      bench.exited,
      new Promise((r) => setTimeout(() => r("timeout"), 170_000)),
    ]);
    if (code === "timeout") await bench.stop(5_000);
    const all = bench.lines.join("\n");
    expect(code, all).toBe(0);
    for (const step of ["1. fleet written", "2. proxy cold start", "3. route lookup", "4. fan-out", "5. "])
      expect(all).toContain(step);
    expect(all).toContain("the streams' proxy, 2 processes (NODE_CLUSTER_SCHED_POLICY=none)");

    const f = JSON.parse(bench.lines.filter((l) => l.trim()).at(-1)!);
    expect(f).toMatchObject({
      bench: "scale",
      mode: "quick",
      fleet: { services: 20, replicas: 2, endpoints: 40 },
    });
    // The proxy routed every service written (and the streams' one), the last one answered.
    const c = f.cold_start;
    expect(c.services_routed).toBe(21);
    expect(c.routed_ms).toBeGreaterThanOrEqual(c.ready_ms);
    expect(c.ready_ms).toBeGreaterThanOrEqual(c.boot_ms);
    expect(c.rss_mb).toBeGreaterThan(0);
    for (const k of ["fleet_ns", "one_service_ns", "ratio"])
      expect(finite(f.lookup[k]) && f.lookup[k] > 0, k).toBe(true);
    // Every change reached every proxy of each step (a step that misses one fails the bench).
    expect(f.fanout.steps.map((s: { proxies: number }) => s.proxies)).toEqual([2, 1]);
    for (const s of f.fanout.steps) {
      expect(s.changes).toBe(10);
      expect(s.p50_ms).toBeGreaterThanOrEqual(0);
      expect(s.all_p99_ms).toBeGreaterThanOrEqual(s.p50_ms);
    }
    // Both phases: every stream got all its tokens, direct and through the proxy.
    const st = f.streams;
    expect(st.proxy_workers).toBe(2);
    for (const phase of [st.direct, st.through]) {
      expect(phase.failed, phase.first_error).toBe(0);
      expect(phase.streams).toBe(20);
      expect(phase.gaps).toBeGreaterThan(0);
      expect(phase.gap_p99_ms).toBeGreaterThanOrEqual(phase.gap_p50_ms);
    }
    expect(st.through.proxy_rss_mb).toBeGreaterThan(0);
    expect(finite(st.added.p99_ms)).toBe(true);
    expect(Object.keys(f.targets).sort()).toEqual(
      [
        "added_gap_p99_under_5ms",
        "fanout_p99_under_100ms",
        "routed_within_2s",
        "rss_under_300mb",
        "streams_rss_under_1gb",
      ].sort(),
    );
  }, 180_000);
});
