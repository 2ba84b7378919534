// @pure: no I/O
import type { Policy } from "./system.js";

/**
 * What one run of `pnpm bench autoscale` does: the full run (a few minutes on 2 cores) or
 * `--quick` (a smoke run under a minute, what the test runs). Times the SkyServe policy speaks
 * of are scaled down; Switchyard's own intervals (proxy reports, autoscaler ticks, probes) are
 * their defaults, since they are what is measured.
 */
export interface Profile {
  mode: "full" | "quick";
  /** Proxy processes; the load goes round-robin over them. */
  proxies: number;
  /** The engine's cold start (`--startup-delay-ms`): a model loading. */
  startupDelayMs: number;
  /** Engine capacity, as vLLM's: completions at once, and the time between two tokens. */
  maxNumSeqs: number;
  tokenDelayMs: number;
  tokens: number;
  /** The autoscaler's QPS window (seconds): SkyServe's 60 s is far longer than any phase here. */
  windowS: number;
  /** The prober's interval (its default unless --probe-interval-ms). */
  probeIntervalMs: number | null;
  /**
   * (a) One fresh service at zero per trial; each gets `burst` requests at once, at most
   * `maxNumSeqs`: more would wait in the new engine's queue and time its capacity instead.
   */
  fromZero: { trials: number; burst: number };
  /** (b) min 1 → a constant `qps` with upscale_delay_seconds 0; `maxReplicas` is the step's goal. */
  reaction: { qps: number; targetQps: number; maxReplicas: number; timeoutS: number };
  /** (c) A ramp up and down: piecewise-linear offered QPS [second, qps], SkyServe's delays scaled. */
  ramp: {
    points: [number, number][];
    policy: Policy;
    /** After the load ends: how long to wait for the service to return to zero. */
    settleS: number;
    /** Seconds between two rows of the printed table. */
    tableStepS: number;
  };
}

/** SkyServe's defaults (upscale 300 s, downscale 1200 s) divided by this for the ramp. */
export const SKYSERVE_SCALE_DOWN = 60;

/** Offered QPS `base` for `idleS`, up to `peak` over `upS`, held `holdS`, down to 0 over `downS`. */
export function trapezoid(
  base: number,
  peak: number,
  [idleS, upS, holdS, downS]: number[],
): [number, number][] {
  const up = idleS + upS;
  const hold = up + holdS;
  return [
    [0, base],
    [idleS, base],
    [up, peak],
    [hold, peak],
    [hold + downS, 0],
  ];
}

export const FULL: Profile = {
  mode: "full",
  proxies: 3,
  startupDelayMs: 3000,
  maxNumSeqs: 4,
  tokenDelayMs: 25,
  tokens: 8,
  windowS: 5,
  probeIntervalMs: null,
  fromZero: { trials: 3, burst: 4 },
  reaction: { qps: 16, targetQps: 2, maxReplicas: 4, timeoutS: 40 },
  ramp: {
    points: trapezoid(1, 8, [5, 30, 15, 30]),
    policy: {
      min_replicas: 0,
      max_replicas: 4,
      target_qps_per_replica: 2,
      upscale_delay_seconds: 300 / SKYSERVE_SCALE_DOWN,
      downscale_delay_seconds: 1200 / SKYSERVE_SCALE_DOWN,
    },
    settleS: 60,
    tableStepS: 5,
  },
};

/** The same questions in under a minute: smaller, shorter, SkyServe's delays scaled further. */
export const QUICK: Profile = {
  ...FULL,
  mode: "quick",
  proxies: 2,
  startupDelayMs: 500,
  tokenDelayMs: 10,
  tokens: 4,
  windowS: 3,
  fromZero: { trials: 1, burst: 3 },
  reaction: { ...FULL.reaction, qps: 8, maxReplicas: 2, timeoutS: 20 },
  ramp: {
    points: trapezoid(1, 5, [2, 4, 3, 3]),
    policy: { ...FULL.ramp.policy, max_replicas: 3, upscale_delay_seconds: 1, downscale_delay_seconds: 3 },
    settleS: 25,
    tableStepS: 2,
  },
};

export interface BenchArgs {
  profile: Profile;
  /** Where the table, CSV and PNG go (default: a new temporary directory). */
  outDir: string | null;
}

/** A bad command line: printed as it is, without a stack. */
export class UsageError extends Error {}

export const USAGE =
  "usage: pnpm bench autoscale [--quick] [--proxies N] [--probe-interval-ms MS] [--out DIR]";

/** Parse the arguments after `autoscale`; throws with the usage on anything else. */
export function parseArgs(argv: readonly string[]): BenchArgs {
  let profile: Profile = FULL;
  let outDir: string | null = null;
  const overrides: Partial<Profile> = {};
  const int = (flag: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(`${flag} needs a whole number from ${min} to ${max}\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") profile = QUICK;
    else if (a === "--proxies") overrides.proxies = int(a, argv[++i], 1, 3);
    else if (a === "--probe-interval-ms") overrides.probeIntervalMs = int(a, argv[++i], 10, 60_000);
    else if (a === "--out") {
      outDir = argv[++i] ?? null;
      if (!outDir) throw new UsageError(`--out needs a directory\n${USAGE}`);
    } else throw new UsageError(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
  }
  return { profile: { ...profile, ...overrides }, outDir };
}
