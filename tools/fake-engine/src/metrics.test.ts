import { describe, expect, it } from "vitest";
import {
  escapeLabel,
  formatFloat,
  newEngineMetrics,
  newHistogram,
  observe,
  renderMetrics,
  TTFT_BUCKETS,
} from "./metrics.js";

/** The value of one sample line, by its exact name and label text. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no sample ${series}`);
  return Number(line.slice(series.length + 1));
}

const L = 'model_name="m1",engine="0"';

describe("vLLM metrics text", () => {
  it("fresh engine: vLLM's names and types, gauges and counters at 0, every finish reason present", () => {
    const text = renderMetrics("m1", newEngineMetrics(), { running: 0, waiting: 0 });
    for (const [name, type] of [
      ["vllm:num_requests_running", "gauge"],
      ["vllm:num_requests_waiting", "gauge"],
      ["vllm:prompt_tokens_total", "counter"],
      ["vllm:generation_tokens_total", "counter"],
      ["vllm:request_success_total", "counter"],
      ["vllm:time_to_first_token_seconds", "histogram"],
      ["vllm:e2e_request_latency_seconds", "histogram"],
      ["vllm:request_queue_time_seconds", "histogram"],
    ])
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    expect(text).toContain(`vllm:num_requests_running{${L}} 0.0\n`);
    for (const r of ["stop", "length", "abort"])
      expect(sample(text, `vllm:request_success_total{${L},finished_reason="${r}"}`)).toBe(0);
    expect(text.endsWith("\n")).toBe(true);
  });

  it("gauges show the scheduler's running and waiting counts", () => {
    const text = renderMetrics("m1", newEngineMetrics(), { running: 2, waiting: 3 });
    expect(sample(text, `vllm:num_requests_running{${L}}`)).toBe(2);
    expect(sample(text, `vllm:num_requests_waiting{${L}}`)).toBe(3);
  });

  it("histograms: cumulative buckets with vLLM's bounds, +Inf, sum and count", () => {
    const m = newEngineMetrics();
    for (const v of [0.0005, 0.001, 0.03, 3000]) observe(m.ttft, v);
    const text = renderMetrics("m1", m, { running: 0, waiting: 0 });
    const bucket = (le: string) => sample(text, `vllm:time_to_first_token_seconds_bucket{le="${le}",${L}}`);
    expect(bucket("0.001")).toBe(2); // le is inclusive
    expect(bucket("0.02")).toBe(2);
    expect(bucket("0.04")).toBe(3);
    expect(bucket("2560.0")).toBe(3);
    expect(bucket("+Inf")).toBe(4);
    expect(sample(text, `vllm:time_to_first_token_seconds_count{${L}}`)).toBe(4);
    expect(sample(text, `vllm:time_to_first_token_seconds_sum{${L}}`)).toBeCloseTo(3000.0315, 9);
    const bounds = [...text.matchAll(/time_to_first_token_seconds_bucket\{le="([^"]+)"/g)].map((x) => x[1]);
    expect(bounds).toEqual([...TTFT_BUCKETS.map(formatFloat), "+Inf"]);
  });

  it("counters: prompt and generation tokens, successes by reason", () => {
    const m = newEngineMetrics();
    m.promptTokens = 12;
    m.generationTokens = 40;
    m.success.length = 5;
    const text = renderMetrics("m1", m, { running: 0, waiting: 0 });
    expect(sample(text, `vllm:prompt_tokens_total{${L}}`)).toBe(12);
    expect(sample(text, `vllm:generation_tokens_total{${L}}`)).toBe(40);
    expect(sample(text, `vllm:request_success_total{${L},finished_reason="length"}`)).toBe(5);
  });

  it("a hostile model name cannot break out of its label", () => {
    const text = renderMetrics('a"b\\c\nd', newEngineMetrics(), { running: 1, waiting: 0 });
    expect(text).toContain('vllm:num_requests_running{model_name="a\\"b\\\\c\\nd",engine="0"} 1.0\n');
    // Every line is a comment or one sample: no stray line from the name's newline.
    for (const line of text.trimEnd().split("\n")) expect(line).toMatch(/^(# (HELP|TYPE) |vllm:)/);
  });

  it.each([
    { v: 2, s: "2.0" },
    { v: 0.25, s: "0.25" },
    { v: Number.POSITIVE_INFINITY, s: "+Inf" },
  ])("formatFloat($v) = $s (Python's float repr)", ({ v, s }) => {
    expect(formatFloat(v)).toBe(s);
  });

  it("escapeLabel leaves a plain name alone", () => {
    expect(escapeLabel("meta-llama/Llama-3.1-8B")).toBe("meta-llama/Llama-3.1-8B");
  });

  it("observe beyond the last bound lands in +Inf only", () => {
    const h = newHistogram([1, 2]);
    observe(h, 5);
    expect(h.perBucket).toEqual([0, 0, 1]);
  });
});
