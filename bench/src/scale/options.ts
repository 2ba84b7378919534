import { parseArgs } from "node:util";
import { UsageError } from "../autoscale/options.js";

/** What one run of `pnpm bench scale` does (the sizes, or `--quick`: a smoke run). */
export interface ScaleOptions {
  mode: "full" | "quick";
  services: number;
  replicas: number;
  /** Watching proxies for the fan-out (each holds the whole fleet), halved down to `minProxies`. */
  proxies: number;
  minProxies: number;
  /** Endpoint changes per second while the fan-out is measured, and for how long per step. */
  ratePerS: number;
  fanoutSeconds: number;
  /** Concurrent SSE streams, fake engines serving them, and their timing. */
  streams: number;
  engines: number;
  tokenDelayMs: number;
  tokens: number;
  /**
   * Processes (YARD_PROXY_WORKERS) of the proxy the streams go through; 0 = the fewest whose
   * open-file limits hold them (then the cold-started proxy itself when one process does).
   */
  streamWorkers: number;
}

const FULL: ScaleOptions = {
  mode: "full",
  services: 10_000,
  replicas: 10,
  proxies: 32,
  minProxies: 4,
  ratePerS: 20,
  fanoutSeconds: 10,
  streams: 10_000,
  engines: 4,
  tokenDelayMs: 1_000,
  // A minute: 10k connections take tens of seconds to open on a loaded 2-core machine, and the
  // gaps counted are those while every stream is open at once.
  tokens: 60,
  streamWorkers: 0,
};

const QUICK: ScaleOptions = {
  mode: "quick",
  services: 20,
  replicas: 2,
  proxies: 2,
  minProxies: 1,
  ratePerS: 10,
  fanoutSeconds: 1,
  streams: 20,
  engines: 2,
  tokenDelayMs: 100,
  tokens: 20,
  streamWorkers: 0,
};

export const SCALE_USAGE = `usage: pnpm bench scale [--quick] [--services N] [--replicas N] [--proxies N]
  [--min-proxies N] [--rate N] [--fanout-seconds N] [--streams N] [--engines N]
  [--token-delay-ms N] [--tokens N] [--stream-workers N]`;

/** argv → options: `--quick` picks the small profile; any size given overrides it. */
export function parseScaleArgs(argv: string[]): ScaleOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: "boolean" },
        services: { type: "string" },
        replicas: { type: "string" },
        proxies: { type: "string" },
        "min-proxies": { type: "string" },
        rate: { type: "string" },
        "fanout-seconds": { type: "string" },
        streams: { type: "string" },
        engines: { type: "string" },
        "token-delay-ms": { type: "string" },
        tokens: { type: "string" },
        "stream-workers": { type: "string" },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${SCALE_USAGE}`);
  }
  const base = values.quick ? QUICK : FULL;
  const int = (name: string, def: number, min: number, max: number) => {
    const raw = values[name];
    if (raw === undefined) return def;
    const n = Number(raw);
    if (typeof raw !== "string" || !/^\d+$/.test(raw) || n < min || n > max)
      throw new UsageError(
        `--${name} must be an integer from ${min} to ${max}, got "${raw}"\n${SCALE_USAGE}`,
      );
    return n;
  };
  const o: ScaleOptions = {
    mode: base.mode,
    services: int("services", base.services, 1, 100_000),
    replicas: int("replicas", base.replicas, 1, 100),
    proxies: int("proxies", base.proxies, 1, 64),
    minProxies: int("min-proxies", base.minProxies, 1, 64),
    ratePerS: int("rate", base.ratePerS, 1, 1_000),
    fanoutSeconds: int("fanout-seconds", base.fanoutSeconds, 1, 120),
    streams: int("streams", base.streams, 1, 50_000),
    engines: int("engines", base.engines, 1, 32),
    tokenDelayMs: int("token-delay-ms", base.tokenDelayMs, 10, 10_000),
    tokens: int("tokens", base.tokens, 2, 4_096),
    streamWorkers: int("stream-workers", base.streamWorkers, 0, 16),
  };
  if (o.minProxies > o.proxies) throw new UsageError(`--min-proxies is above --proxies\n${SCALE_USAGE}`);
  return o;
}
