import { round } from "../proxy/stats.js";
import { now } from "./clock.js";
import { type Counted, countedSince, type PhaseContext } from "./phase.js";
import { idealReplicas, offeredQps, type RampFigures, rampFigures, type Sample } from "./series.js";
import { type Policy, serviceYaml } from "./system.js";

export interface RampResult extends RampFigures, Counted {
  samples: Sample[];
  duration_s: number;
  policy: Policy;
  /** From the last request of the ramp to no replica left routed (min_replicas 0). */
  back_to_zero_s: number;
}

const SERVICE = "ramp";
/** How often the replica counts are sampled. */
const SAMPLE_MS = 250;

/**
 * (c) A ramp up and down on a service with min_replicas 0 and SkyServe's delays scaled down:
 * the offered QPS follows the profile's points, the replicas routed and the autoscaler's target
 * are sampled against the ideal, then the bench waits (bounded) for the service to return to zero.
 */
export async function ramp({ bench, load, p, log }: PhaseContext): Promise<RampResult> {
  const o = bench.observer;
  const c = p.ramp;
  const { policy } = c;
  await bench.apply(SERVICE, serviceYaml(SERVICE, p, policy));
  const duration = c.points.at(-1)![0];
  const words = Object.entries(policy).map(([k, v]) => `${k} ${v}`);
  log(`  ${SERVICE}: ${words.join(", ")}; ${duration} s of load, then back to zero`);
  const samples: Sample[] = [];
  const t0 = now();
  let loadOn = true;
  let lastPrinted = -1;
  const sample = () => {
    const t = (now() - t0) / 1000;
    const qps = loadOn ? offeredQps(c.points, t) : 0;
    const s: Sample = {
      t: round(t, 2),
      qps: round(qps, 2),
      ideal: idealReplicas(qps, policy),
      target: o.latestScale(SERVICE)?.record.target_replicas ?? 0,
      ready: o.readyCount(SERVICE),
    };
    samples.push(s);
    const tick = Math.floor(t / c.tableStepS);
    if (tick !== lastPrinted) {
      lastPrinted = tick;
      log(
        `    t=${s.t.toFixed(0)} s  QPS ${s.qps.toFixed(1)}  ideal ${s.ideal}  target ${s.target}  ready ${s.ready}`,
      );
    }
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  const from = load.sent.length;
  try {
    await load.run(SERVICE, (t) => offeredQps(c.points, t), duration);
    loadOn = false;
    const end = load.sent.at(-1)?.sentAt ?? now();
    await load.drain();
    await o.until(
      () => o.readyCount(SERVICE) === 0 && o.latestScale(SERVICE)?.record.target_replicas === 0,
      `${SERVICE} back to zero replicas`,
      c.settleS * 1000,
      () => o.describe(SERVICE),
    );
    const back = (now() - end) / 1000;
    sample();
    return {
      samples,
      ...rampFigures(samples),
      duration_s: duration,
      policy,
      back_to_zero_s: round(back, 1),
      ...countedSince(load, from),
    };
  } finally {
    clearInterval(timer);
  }
}
