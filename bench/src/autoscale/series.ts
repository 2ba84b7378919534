// @pure: no I/O
import type { Policy } from "./system.js";

/** The ramp at one moment (t in seconds from its start). */
export interface Sample {
  t: number;
  /** Offered load now (requests per second the generator is set to). */
  qps: number;
  /** ceil(qps / target_qps_per_replica) clipped to [min, max]: what a perfect autoscaler would run. */
  ideal: number;
  /** The autoscaler's target (yard-scale). */
  target: number;
  /** Replicas the proxies route to (ready, not draining). */
  ready: number;
}

/** Offered QPS at `t` on a piecewise-linear profile of [second, qps] points; 0 after the last. */
export function offeredQps(points: readonly [number, number][], t: number): number {
  for (let i = 1; i < points.length; i++) {
    const [t0, q0] = points[i - 1];
    const [t1, q1] = points[i];
    if (t >= t0 && t <= t1) return t1 === t0 ? q1 : q0 + ((q1 - q0) * (t - t0)) / (t1 - t0);
  }
  return 0;
}

/** SkyServe's rule without its window or delays: ceil(qps / target) clipped to [min, max]. */
export function idealReplicas(qps: number, p: Policy): number {
  const n = Math.ceil(qps / p.target_qps_per_replica - 1e-9);
  return Math.min(p.max_replicas, Math.max(p.min_replicas, n));
}

export interface RampFigures {
  /** Replica-seconds the ideal asked for, and that were ready. */
  ideal_replica_s: number;
  ready_replica_s: number;
  /** Replica-seconds below the ideal (capacity missing) and above it (capacity idle). */
  under_replica_s: number;
  over_replica_s: number;
  max_ready: number;
}

/** Areas between the ready and ideal curves (each sample holds until the next). */
export function rampFigures(samples: readonly Sample[]): RampFigures {
  const f = { ideal_replica_s: 0, ready_replica_s: 0, under_replica_s: 0, over_replica_s: 0, max_ready: 0 };
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    f.max_ready = Math.max(f.max_ready, s.ready);
    if (i + 1 === samples.length) break;
    const dt = samples[i + 1].t - s.t;
    f.ideal_replica_s += s.ideal * dt;
    f.ready_replica_s += s.ready * dt;
    f.under_replica_s += Math.max(0, s.ideal - s.ready) * dt;
    f.over_replica_s += Math.max(0, s.ready - s.ideal) * dt;
  }
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    ideal_replica_s: r1(f.ideal_replica_s),
    ready_replica_s: r1(f.ready_replica_s),
    under_replica_s: r1(f.under_replica_s),
    over_replica_s: r1(f.over_replica_s),
    max_ready: f.max_ready,
  };
}

/** The samples nearest to every `stepS` seconds, as a fixed-width table. */
export function rampTable(samples: readonly Sample[], stepS: number): string {
  const rows = ["    t s    QPS  ideal  target  ready"];
  let next = 0;
  samples.forEach((s, i) => {
    // Every stepS seconds, and the last sample (where the ramp ended).
    if (s.t + 1e-9 < next && i + 1 < samples.length) return;
    next = (Math.floor(s.t / stepS + 1e-9) + 1) * stepS;
    rows.push(
      `${s.t.toFixed(1).padStart(7)} ${s.qps.toFixed(1).padStart(6)} ${String(s.ideal).padStart(6)} ${String(s.target).padStart(7)} ${String(s.ready).padStart(6)}`,
    );
  });
  return rows.join("\n");
}

export function rampCsv(samples: readonly Sample[]): string {
  return (
    [
      "t_s,qps,ideal,target,ready",
      ...samples.map((s) => `${s.t.toFixed(2)},${s.qps.toFixed(2)},${s.ideal},${s.target},${s.ready}`),
    ].join("\n") + "\n"
  );
}
