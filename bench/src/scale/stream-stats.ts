// @pure: no I/O
/** What the bench asks one stream-client process to do. */
export interface StreamSpec {
  /** Base URLs, used round-robin (direct: the engines; through: the proxy). */
  urls: string[];
  /** Host header (the proxy routes by it); null: the URL's. */
  host: string | null;
  token: string;
  model: string;
  count: number;
  tokens: number;
  /** Connections being opened at once while ramping up. */
  connectConcurrency: number;
  /** Give up waiting for the streams to end after this long (ms). */
  timeoutMs: number;
}

/** The gaps between consecutive tokens of a stream, over every stream (ms). */
export interface GapStats {
  gaps: number;
  gap_p50_ms: number;
  gap_p99_ms: number;
  gap_p999_ms: number;
  gap_max_ms: number;
}

export interface StreamsResult extends GapStats {
  streams: number;
  /** Every stream was open at one moment (the last headers came before the first stream ended). */
  concurrent: boolean;
  failed: number;
  first_error: string | null;
  ramp_ms: number;
  /** From the moment all were open to the first end: the gaps counted are in it. */
  window_ms: number;
}

/**
 * Inter-token gaps of every stream whose two tokens both arrived in [from, to] (while every
 * stream was open at once; every gap when that window is empty), as percentiles. A gap is measured at the client: the engine's
 * token delay plus whatever lies between (the proxy, the machine's scheduling).
 */
export function gapStats(arrivals: number[][], from: number, to: number): GapStats {
  if (!(from < to)) return gapStats(arrivals, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
  const gaps: number[] = [];
  for (const times of arrivals)
    for (let i = 1; i < times.length; i++)
      if (times[i - 1] >= from && times[i] <= to) gaps.push(times[i] - times[i - 1]);
  gaps.sort((a, b) => a - b);
  const q = (p: number) =>
    gaps.length === 0 ? 0 : round(gaps[Math.min(gaps.length - 1, Math.ceil(p * gaps.length) - 1)]);
  return {
    gaps: gaps.length,
    gap_p50_ms: q(0.5),
    gap_p99_ms: q(0.99),
    gap_p999_ms: q(0.999),
    gap_max_ms: gaps.length ? round(gaps[gaps.length - 1]) : 0,
  };
}

const round = (x: number) => Math.round(x * 100) / 100;
