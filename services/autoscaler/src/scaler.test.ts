import { LOAD_SCHEMA_VERSION, type LoadReport, type ServiceRoute } from "@switchyard/contracts";
import { replicaRecord, routeRecord, scaleRecord } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import { LoadBook } from "./load-book.js";
import { type Effect, Scaler } from "./scaler.js";

const S = 1000;
const opts = { windowMs: 60 * S, warmupMs: 5 * S, refreshMs: 10 * S };

function route(o: Partial<ServiceRoute> & { min?: number; max?: number; up?: number; down?: number } = {}) {
  const { min, max, up, down, ...rest } = o;
  return routeRecord({
    name: "llm",
    target_qps_per_replica: 2,
    replica_policy: {
      min_replicas: min ?? 0,
      max_replicas: max ?? 3,
      num_overprovision: 0,
      upscale_delay_seconds: up ?? 0,
      downscale_delay_seconds: down ?? 0,
    },
    ...rest,
  });
}

function report(seq: number, requests: number, held = 0): LoadReport {
  return {
    schema: LOAD_SCHEMA_VERSION,
    proxy_id: "p1",
    service: "llm",
    seq,
    interval_ms: 1000,
    requests,
    in_flight: {},
    held,
    sent_at: "2026-01-01T00:00:00.000Z",
  };
}

/** Apply the effects as the bus adapter does when every write lands. */
function land(s: Scaler, effects: Effect[]): Effect[] {
  for (const e of effects) {
    if (e.type === "put") s.stored(e.record);
    if (e.type === "delete") s.removed(e.service);
  }
  return effects;
}

const puts = (effects: Effect[]) => effects.flatMap((e) => (e.type === "put" ? [e] : []));

describe("Scaler", () => {
  it("writes nothing while warming up with no record, then a first decision with its event", () => {
    const s = new Scaler(opts, 0);
    s.setRoute("llm", route({ min: 1 }));
    expect(s.decideAll(1 * S)).toEqual([]);
    const [put] = puts(land(s, s.decideAll(6 * S)));
    expect(put.record).toMatchObject({
      service: "llm",
      target_replicas: 1,
      reason: "min_replicas",
      revision: 1,
    });
    expect(put.event).toMatchObject({
      type: "autoscaler.decided",
      from: null,
      to: 1,
      reason: "min_replicas",
    });
    // Nothing changed: nothing written.
    expect(s.decideAll(7 * S)).toEqual([]);
  });

  it("a restart keeps the stored target (paused), scales up on partial data, and down only after a full window", () => {
    const s = new Scaler(opts, 0);
    s.setRoute("llm", route({ max: 5 }));
    s.stored(scaleRecord({ service: "llm", target_replicas: 3, revision: 1, reason: "qps" }));
    const [paused] = puts(land(s, s.decideAll(1 * S)));
    expect(paused.record).toMatchObject({ target_replicas: 3, reason: "paused", wanted_replicas: null });
    expect(paused.event).toBeNull();
    // 1 QPS asks for 1 replica: held at 3 while the window is partial.
    for (let t = 1; t <= 30; t++) s.report(report(1000 + t, 1), t * S);
    expect(puts(land(s, s.decideAll(30 * S)))[0].record).toMatchObject({
      target_replicas: 3,
      wanted_replicas: 1,
      reason: "paused",
    });
    // 40 QPS for 10 s: (30 + 400) / 40 s asks for 6, clipped to 5: up at once, partial or not.
    for (let t = 31; t <= 40; t++) s.report(report(1000 + t, 40), t * S);
    const [up] = puts(land(s, s.decideAll(40 * S)));
    expect(up.record).toMatchObject({ target_replicas: 5, reason: "max_replicas" });
    expect(up.event).toMatchObject({ from: 3, to: 5 });
    // Silence for a whole window: then down.
    for (let t = 41; t <= 110; t++) s.report(report(1000 + t, 0), t * S);
    const [down] = puts(land(s, s.decideAll(110 * S)));
    expect(down.record).toMatchObject({ target_replicas: 0, reason: "min_replicas", qps: 0 });
  });

  it("a hot standby's takeover: a Scaler on a book heard for a window decides at once, up or down, with no new warm-up", () => {
    // The standby heard the proxy from 0 s; it takes over at 100 s with the leader's stored target.
    const book = new LoadBook(opts, 0);
    for (let t = 1; t <= 100; t++) book.report(report(t, 0), t * S);
    const s = new Scaler(opts, 100 * S, book);
    s.setRoute("llm", route({ max: 5 }));
    s.stored(scaleRecord({ service: "llm", target_replicas: 3, revision: 1, reason: "qps" }));
    expect(book.warm(100 * S)).toBe(true);
    // A fresh Scaler at 100 s would be paused until 105 s; this one scales down at once.
    const [down] = puts(land(s, s.decideAll(100 * S)));
    expect(down.record).toMatchObject({ target_replicas: 0, reason: "min_replicas", qps: 0 });
    expect(down.event).toMatchObject({ from: 3, to: 0 });
    const fresh = new Scaler(opts, 100 * S);
    fresh.setRoute("llm", route({ max: 5 }));
    fresh.stored(scaleRecord({ service: "llm", target_replicas: 3, revision: 1, reason: "qps" }));
    expect(puts(fresh.decideAll(100 * S))[0].record).toMatchObject({ target_replicas: 3, reason: "paused" });
  });

  it("a route removed: its record is deleted", () => {
    const s = new Scaler(opts, 0);
    s.stored(scaleRecord({ service: "gone", target_replicas: 2 }));
    expect(land(s, s.decideAll(10 * S))).toEqual([{ type: "delete", service: "gone" }]);
    expect(s.decideAll(11 * S)).toEqual([]);
  });

  it("a route without a replica policy (an older spec service) is left alone, said once per revision", () => {
    const s = new Scaler(opts, 0);
    s.setRoute("llm", routeRecord({ name: "llm", replica_policy: undefined }));
    expect(s.decideAll(10 * S)).toMatchObject([{ type: "unmanaged", service: "llm", revision: 1 }]);
    expect(s.decideAll(11 * S)).toEqual([]);
    s.setRoute("llm", routeRecord({ name: "llm", revision: 2, replica_policy: undefined }));
    expect(s.decideAll(12 * S)).toHaveLength(1);
  });

  it("a QPS that moves alone is rewritten at most every refreshMs", () => {
    const s = new Scaler(opts, 0);
    s.setRoute("llm", route({ min: 1, max: 1 }));
    land(s, s.decideAll(6 * S));
    s.report(report(1, 1), 7 * S);
    expect(s.decideAll(8 * S)).toEqual([]);
    const [put] = puts(s.decideAll(16 * S));
    expect(put.record.qps).toBeGreaterThan(0);
    expect(put.event).toBeNull();
  });

  it("with upscale_delay_seconds 0 a report with requests is urgent (decided with it); with a delay it waits for the tick", () => {
    const s = new Scaler(opts, 0);
    s.setRoute("llm", route({ up: 0 }));
    s.setRoute("slow", { ...route({ up: 300 }), name: "slow" });
    s.stored(scaleRecord({ service: "llm", target_replicas: 1, revision: 1 }));
    s.stored(scaleRecord({ service: "slow", target_replicas: 1, revision: 1 }));
    expect(s.report(report(1, 5), 1 * S)).toEqual({ result: "ok", urgent: true });
    expect(s.report(report(2, 0), 2 * S)).toEqual({ result: "ok", urgent: false });
    expect(s.report({ ...report(1, 5), service: "slow" }, 1 * S)).toEqual({ result: "ok", urgent: false });
  });

  it("a report holding requests at zero is urgent, and decides 0 → 1 before the warm-up ends", () => {
    const s = new Scaler(opts, 0);
    s.setRoute("llm", route({ up: 300 }));
    s.stored(scaleRecord({ service: "llm", target_replicas: 0, revision: 1 }));
    expect(s.report(report(7, 0, 1), 1 * S)).toEqual({ result: "ok", urgent: true });
    const [put] = puts(s.decideOne("llm", 1 * S));
    expect(put.record).toMatchObject({ target_replicas: 1, reason: "from_zero" });
    expect(put.event).toMatchObject({ from: 0, to: 1, reason: "from_zero" });
  });

  it("instance-aware: reads the replicas' accelerators", () => {
    const s = new Scaler(opts, 0);
    s.setRoute("llm", route({ max: 5, target_qps_per_replica: { A100: 4, L4: 1 } }));
    s.setReplica("llm.1", replicaRecord({ service: "llm", id: 1, phase: "READY", accelerator: "A100" }));
    s.setReplica("llm.2", replicaRecord({ service: "llm", id: 2, phase: "READY", accelerator: "L4" }));
    s.stored(scaleRecord({ service: "llm", target_replicas: 2, revision: 1 }));
    for (let t = 1; t <= 10; t++) s.report(report(t, 7), t * S);
    // Capacity 5, 7 QPS: 2 + ceil(2 / 4) = 3.
    expect(puts(s.decideAll(10 * S))[0].record).toMatchObject({ target_replicas: 3 });
  });
});
