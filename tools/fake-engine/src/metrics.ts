// @pure: vLLM's Prometheus metrics (names, types, buckets, labels) and their text rendering, no I/O
/**
 * The subset of vLLM's V1 metrics (vllm/v1/metrics/loggers.py, PrometheusStatLogger) that
 * load, latency and autoscaling measurements need, with vLLM's names, help texts, histogram
 * buckets and labels (`model_name` = the served model, `engine` = "0"), in the Prometheus text
 * format prometheus_client writes (counters as `<name>_total`, values as floats). Not rendered:
 * prometheus_client's `_created` samples and the metrics the fake has nothing for (KV cache,
 * prefix cache, spec decode, LoRA, per-request token histograms).
 */

/** vLLM's `time_to_first_token_seconds` buckets. */
export const TTFT_BUCKETS: readonly number[] = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
  80.0, 160.0, 640.0, 2560.0,
];

/** vLLM's request latency buckets (`e2e_request_latency_seconds`, queue time, ...). */
export const REQUEST_LATENCY_BUCKETS: readonly number[] = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
  960.0, 1920.0, 7680.0,
];

/** vLLM's FinishReason strings; every one is exported from the start, at 0, as vLLM does. */
export const FINISH_REASONS = ["stop", "length", "abort"] as const;
export type FinishReason = (typeof FINISH_REASONS)[number];

export interface Histogram {
  readonly buckets: readonly number[];
  /** Observations per bucket (not cumulative); one more slot for +Inf. */
  readonly perBucket: number[];
  sum: number;
  count: number;
}

export interface EngineMetrics {
  promptTokens: number;
  generationTokens: number;
  success: Record<FinishReason, number>;
  ttft: Histogram;
  e2e: Histogram;
  queueTime: Histogram;
}

export function newHistogram(buckets: readonly number[]): Histogram {
  return { buckets, perBucket: new Array(buckets.length + 1).fill(0), sum: 0, count: 0 };
}

export function newEngineMetrics(): EngineMetrics {
  return {
    promptTokens: 0,
    generationTokens: 0,
    success: { stop: 0, length: 0, abort: 0 },
    ttft: newHistogram(TTFT_BUCKETS),
    e2e: newHistogram(REQUEST_LATENCY_BUCKETS),
    queueTime: newHistogram(REQUEST_LATENCY_BUCKETS),
  };
}

/** Records one observation (seconds); `le` buckets are inclusive, as Prometheus's. */
export function observe(h: Histogram, value: number): void {
  const i = h.buckets.findIndex((b) => value <= b);
  h.perBucket[i < 0 ? h.buckets.length : i]++;
  h.sum += value;
  h.count++;
}

/** Python's float repr for the values we write: `2.0`, `0.25`, `+Inf`. */
export function formatFloat(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

/** A label value in the text format: backslash, double quote and newline escaped. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** The whole `/metrics` body for one served model. `running`/`waiting` are the scheduler's now. */
export function renderMetrics(
  model: string,
  m: EngineMetrics,
  now: { running: number; waiting: number },
): string {
  const base = `model_name="${escapeLabel(model)}",engine="0"`;
  const out: string[] = [];
  const head = (name: string, type: string, help: string) =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const gauge = (name: string, help: string, v: number) => {
    head(name, "gauge", help);
    out.push(`${name}{${base}} ${formatFloat(v)}`);
  };
  const counter = (name: string, help: string, v: number) => {
    head(`${name}_total`, "counter", help);
    out.push(`${name}_total{${base}} ${formatFloat(v)}`);
  };
  const histogram = (name: string, help: string, h: Histogram) => {
    head(name, "histogram", help);
    out.push(`${name}_sum{${base}} ${formatFloat(h.sum)}`);
    let cumulative = 0;
    [...h.buckets, Number.POSITIVE_INFINITY].forEach((le, i) => {
      cumulative += h.perBucket[i];
      out.push(`${name}_bucket{le="${formatFloat(le)}",${base}} ${formatFloat(cumulative)}`);
    });
    out.push(`${name}_count{${base}} ${formatFloat(h.count)}`);
  };

  gauge("vllm:num_requests_running", "Number of requests in model execution batches.", now.running);
  gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", now.waiting);
  counter("vllm:prompt_tokens", "Number of prefill tokens processed.", m.promptTokens);
  counter("vllm:generation_tokens", "Number of generation tokens processed.", m.generationTokens);
  head("vllm:request_success_total", "counter", "Count of successfully processed requests.");
  for (const r of FINISH_REASONS)
    out.push(`vllm:request_success_total{${base},finished_reason="${r}"} ${formatFloat(m.success[r])}`);
  histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", m.ttft);
  histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", m.e2e);
  histogram(
    "vllm:request_queue_time_seconds",
    "Histogram of time spent in WAITING phase for request.",
    m.queueTime,
  );
  return `${out.join("\n")}\n`;
}
