// @pure: no I/O
import { Raster, type Rgb, textWidth } from "./raster.js";
import type { Sample } from "./series.js";
import type { Policy } from "./system.js";

const INK: Rgb = [40, 40, 40];
const GRID: Rgb = [225, 225, 225];
const QPS: Rgb = [240, 150, 40];
const IDEAL: Rgb = [90, 90, 90];
const TARGET: Rgb = [40, 90, 220];
const READY: Rgb = [120, 200, 120];

/** The chart's size and its margins around the plot area, in pixels. */
const SIZE = { w: 960, h: 440, left: 64, right: 64, top: 56, bottom: 52 };

/**
 * The ramp as a line chart: replicas ready (thick green), the autoscaler's target (blue) and
 * the ideal (dashed) over time, with the offered QPS (orange) on the right-hand axis, scaled so
 * that one replica's gridline is target_qps_per_replica.
 */
export function plotRamp(samples: readonly Sample[], policy: Policy): Raster {
  const { w: W, h: H, left, right, top, bottom } = SIZE;
  const perReplica = policy.target_qps_per_replica;
  const title = `REPLICAS VS IDEAL: ${perReplica} QPS/REPLICA, DELAYS ${policy.upscale_delay_seconds} S UP, ${policy.downscale_delay_seconds} S DOWN`;
  const r = new Raster(W, H);
  const tMax = Math.max(1, samples.at(-1)?.t ?? 1);
  const yMax =
    Math.max(policy.max_replicas, ...samples.map((s) => Math.max(s.ready, s.target, s.qps / perReplica))) + 1;
  const x = (t: number) => left + ((W - left - right) * t) / tMax;
  const y = (v: number) => H - bottom - ((H - top - bottom) * v) / yMax;

  // Grid and axes: a line per replica, labelled replicas on the left and QPS on the right.
  const yStep = Math.max(1, Math.ceil(yMax / 10));
  for (let v = 0; v <= yMax; v += yStep) {
    r.line(left, y(v), W - right, y(v), v === 0 ? INK : GRID);
    const label = String(v);
    r.text(left - 8 - textWidth(label), y(v) - 3, label, INK);
    r.text(W - right + 8, y(v) - 3, fmt(v * perReplica), QPS);
  }
  const tStep = niceStep(tMax / 10);
  for (let t = 0; t <= tMax + 1e-9; t += tStep) {
    r.line(x(t), top, x(t), H - bottom, t === 0 ? INK : GRID);
    const label = fmt(t);
    r.text(x(t) - textWidth(label) / 2, H - bottom + 8, label, INK);
  }
  r.line(W - right, top, W - right, H - bottom, INK);
  r.text((W - textWidth("TIME (S)")) / 2, H - bottom + 26, "TIME (S)", INK);
  r.text(8, top - 18, "REPLICAS", INK);
  r.text(W - right - textWidth("QPS") + 20, top - 18, "QPS", QPS);
  r.text(left, 10, title, INK, 2);

  // Offered QPS, then the step lines, the thickest underneath.
  for (let i = 1; i < samples.length; i++) {
    const [a, b] = [samples[i - 1], samples[i]];
    r.line(x(a.t), y(a.qps / perReplica), x(b.t), y(b.qps / perReplica), QPS, 1);
  }
  step(r, samples, (s) => s.ready, x, y, READY, 6);
  step(r, samples, (s) => s.target, x, y, TARGET, 2);
  step(r, samples, (s) => s.ideal, x, y, IDEAL, 2, [6, 4]);

  // Legend, top right.
  const legend: [string, Rgb][] = [
    ["READY", READY],
    ["TARGET", TARGET],
    ["IDEAL", IDEAL],
    ["OFFERED QPS", QPS],
  ];
  let lx = W - right - 40 - legend.reduce((a, [s]) => a + textWidth(s) + 36, 0);
  for (const [label, c] of legend) {
    r.fillRect(lx, top - 16, 20, 5, c);
    r.text(lx + 24, top - 17, label, INK);
    lx += textWidth(label) + 36;
  }
  return r;
}

function step(
  r: Raster,
  samples: readonly Sample[],
  v: (s: Sample) => number,
  x: (t: number) => number,
  y: (v: number) => number,
  c: Rgb,
  width: number,
  dash?: [number, number],
): void {
  // One horizontal run per value (so a dash pattern runs along it), a riser where it changes.
  let start = 0;
  for (let i = 1; i <= samples.length; i++) {
    const a = samples[start];
    const b = samples[Math.min(i, samples.length - 1)];
    if (i < samples.length && v(b) === v(a)) continue;
    r.line(x(a.t), y(v(a)), x(b.t), y(v(a)), c, width, dash);
    if (v(b) !== v(a)) r.line(x(b.t), y(v(a)), x(b.t), y(v(b)), c, width, dash);
    start = i;
  }
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
