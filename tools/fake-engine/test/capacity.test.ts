import type { Proc } from "@switchyard/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { metric, metricReaches, startEngine } from "./helpers.js";

// vLLM's capacity model, seen from outside: real engine processes, real HTTP clients.
const KEY = "cap-key-19c4";
const AUTH = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
const procs: Proc[] = [];

afterEach(async () => {
  for (const p of procs.splice(0)) expect(await p.stop()).toBe(0);
});

async function engine(args: string[]) {
  const e = await startEngine(["--api-key", KEY, ...args]);
  procs.push(e.proc);
  return e;
}

interface Stream {
  /** The engine's completion id (`cmpl-fake<n>`: n counts arrivals). */
  id: Promise<string>;
  firstTokenAt: Promise<number>;
  /** Resolves with the time `data: [DONE]` arrived and the text generated. */
  done: Promise<{ at: number; text: string }>;
}

/**
 * Sends a streamed completion and resolves once its response headers arrived: the engine sends
 * them on arrival, before scheduling (as vLLM's StreamingResponse), so from then on the request
 * is known to be running or waiting there.
 */
async function openStream(base: string, maxTokens: number, signal?: AbortSignal): Promise<Stream> {
  const r = await fetch(`${base}/v1/completions`, {
    method: "POST",
    headers: AUTH,
    body: JSON.stringify({ prompt: "one two three", max_tokens: maxTokens, stream: true }),
    signal,
  });
  expect(r.status).toBe(200);
  let onId!: (id: string) => void;
  let onFirst!: (at: number) => void;
  const id = new Promise<string>((res) => (onId = res));
  const firstTokenAt = new Promise<number>((res) => (onFirst = res));
  const done = (async () => {
    const dec = new TextDecoder();
    let buf = "";
    let text = "";
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
      buf += dec.decode(chunk, { stream: true });
      let end = buf.indexOf("\n\n");
      while (end >= 0) {
        const ev = buf.slice(6, end);
        buf = buf.slice(end + 2);
        end = buf.indexOf("\n\n");
        if (ev === "[DONE]") return { at: performance.now(), text };
        const c = JSON.parse(ev) as { id: string; choices: { text: string; finish_reason: string | null }[] };
        onId(c.id);
        if (c.choices[0].finish_reason === null) {
          onFirst(performance.now());
          text += c.choices[0].text;
        }
      }
    }
    throw new Error("stream ended without [DONE]");
  })();
  // A stream the test aborts on purpose rejects; one the test awaits still reports its error.
  done.catch(() => {});
  return { id, firstTokenAt, done };
}

describe("--max-num-seqs: at most N run, the rest wait FIFO", () => {
  it("5 concurrent requests with --max-num-seqs 2: /metrics shows 2 running and 3 waiting; all 5 complete, first come first served", async () => {
    const e = await engine(["--max-num-seqs", "2", "--token-delay-ms", "500"]);
    // Request 1 has 2 tokens (500 ms running), the others 3 (1000 ms): every start and end is
    // at least 500 ms from the next, so the order cannot depend on timer jitter.
    const streams: Stream[] = [];
    for (const n of [2, 3, 3, 3, 3]) streams.push(await openStream(e.base, n));
    const labels = 'model_name="fake-model",engine="0"';
    expect(await metric(e.base, "vllm:num_requests_running", labels)).toBe(2);
    expect(await metric(e.base, "vllm:num_requests_waiting", labels)).toBe(3);

    const done = await Promise.all(streams.map((s) => s.done));
    const ids = await Promise.all(streams.map((s) => s.id));
    const first = await Promise.all(streams.map((s) => s.firstTokenAt));
    expect(ids).toEqual([1, 2, 3, 4, 5].map((n) => `cmpl-fake${n}`));
    expect(done.map((d) => d.text)).toEqual([
      "Hello from",
      "Hello from the",
      "Hello from the",
      "Hello from the",
      "Hello from the",
    ]);
    const byEnd = [0, 1, 2, 3, 4].sort((a, b) => done[a].at - done[b].at);
    expect(byEnd).toEqual([0, 1, 2, 3, 4]);
    // Requests 1 and 2 start at once; each waiter starts after the one before it.
    expect(Math.max(first[0], first[1])).toBeLessThan(first[2]);
    expect(first[2]).toBeLessThan(first[3]);
    expect(first[3]).toBeLessThan(first[4]);
    // A waiter's first token comes only when a slot frees: request 3 after request 1 ended,
    // request 5 after request 3 ended (50 ms for the two sockets' delivery order).
    expect(first[2]).toBeGreaterThanOrEqual(done[0].at - 50);
    expect(first[4]).toBeGreaterThanOrEqual(done[2].at - 50);

    expect(await metric(e.base, "vllm:num_requests_running", labels)).toBe(0);
    expect(await metric(e.base, "vllm:num_requests_waiting", labels)).toBe(0);
    expect(await metric(e.base, "vllm:request_success_total", 'finished_reason="length"')).toBe(5);
    expect(await metric(e.base, "vllm:generation_tokens_total")).toBe(2 + 4 * 3);
    expect(await metric(e.base, "vllm:prompt_tokens_total")).toBe(5 * 3);
    expect(await metric(e.base, "vllm:time_to_first_token_seconds_count")).toBe(5);
    expect(await metric(e.base, "vllm:e2e_request_latency_seconds_count")).toBe(5);
    // Requests 1 and 2 had their first token at once, the 3 waiters after >= 0.5 s in the queue.
    expect(await metric(e.base, "vllm:time_to_first_token_seconds_bucket", 'le="0.25"')).toBe(2);
    // End to end: 0.5 s for request 1, then 1, 1.5, 2 and 2.5 s (queue time included).
    expect(await metric(e.base, "vllm:e2e_request_latency_seconds_bucket", 'le="0.8"')).toBe(1);
    expect(await metric(e.base, "vllm:e2e_request_latency_seconds_bucket", 'le="5.0"')).toBe(5);
  });

  it("a client that leaves frees its place: a waiter leaves the queue, a running stream and a running non-streamed request give their slot to the next", async () => {
    const e = await engine(["--max-num-seqs", "1", "--token-delay-ms", "200", "--tokens", "1000"]);
    const aborts = [new AbortController(), new AbortController()];
    const running = await openStream(e.base, 1000, aborts[0].signal);
    await running.firstTokenAt;
    const leaver = await openStream(e.base, 1000, aborts[1].signal);
    // A non-streamed request gets no early headers: its arrival shows only in /metrics.
    const wholeAbort = new AbortController();
    const whole = fetch(`${e.base}/v1/chat/completions`, {
      method: "POST",
      headers: AUTH,
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 1000 }),
      signal: wholeAbort.signal,
    }).catch((err: unknown) => err);
    await metricReaches(e.base, "vllm:num_requests_waiting", 2);
    const last = await openStream(e.base, 2);
    expect(await metric(e.base, "vllm:num_requests_waiting")).toBe(3);

    aborts[1].abort(); // the first waiter leaves
    await expect(leaver.done).rejects.toThrow();
    await e.proc.waitForLine(/POST \/v1\/completions client left while waiting/);
    expect(await metric(e.base, "vllm:num_requests_waiting")).toBe(2);
    expect(await metric(e.base, "vllm:num_requests_running")).toBe(1);

    aborts[0].abort(); // the running stream leaves: the non-streamed request runs
    await e.proc.waitForLine(/POST \/v1\/completions client left while running/);
    expect(await metric(e.base, "vllm:num_requests_waiting")).toBe(1);
    expect(await metric(e.base, "vllm:num_requests_running")).toBe(1);

    wholeAbort.abort(); // the running non-streamed request leaves: the last stream runs
    expect(await whole).toBeInstanceOf(Error);
    await e.proc.waitForLine(/POST \/v1\/chat\/completions client left while running/);
    expect((await last.done).text).toBe("Hello from");
    expect(await last.id).toBe("cmpl-fake4");
    expect(await metric(e.base, "vllm:num_requests_running")).toBe(0);
    expect(await metric(e.base, "vllm:num_requests_waiting")).toBe(0);
    // Aborts are not successes (vLLM counts a request a client abandoned in no finish reason).
    expect(await metric(e.base, "vllm:request_success_total", 'finished_reason="length"')).toBe(1);
    expect(await metric(e.base, "vllm:request_success_total", 'finished_reason="abort"')).toBe(0);
  });
});

describe("stopping", () => {
  it("SIGTERM with a stream running and requests waiting: exits 0 without waiting for them", async () => {
    const e = await startEngine(["--max-num-seqs", "1", "--token-delay-ms", "1000", "--tokens", "100"]);
    const running = await openStream(e.base, 100);
    await running.firstTokenAt;
    await openStream(e.base, 100);
    const whole = fetch(`${e.base}/v1/completions`, { method: "POST", body: "{}", headers: AUTH }).catch(
      (err: unknown) => err,
    );
    await metricReaches(e.base, "vllm:num_requests_waiting", 2);
    expect(await e.proc.stop(5_000)).toBe(0);
    expect(await whole).toBeInstanceOf(Error);
  });
});

describe("token timing", () => {
  it("a non-streamed completion takes prefill + (n-1) token delays, and its answer is whole", async () => {
    const e = await engine(["--prefill-ms", "400", "--tokens-per-second", "5"]);
    const t0 = performance.now();
    const r = await fetch(`${e.base}/v1/completions`, {
      method: "POST",
      headers: AUTH,
      body: JSON.stringify({ prompt: "x", max_tokens: 3 }),
    });
    const body = (await r.json()) as { choices: { text: string }[]; usage: { completion_tokens: number } };
    // 400 ms prefill + 2 * 200 ms: a slow machine only adds, so the lower bound cannot flake.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(800 * 0.95);
    expect(body.choices[0].text).toBe("Hello from the");
    expect(body.usage.completion_tokens).toBe(3);
    expect(await metric(e.base, "vllm:time_to_first_token_seconds_bucket", 'le="0.25"')).toBe(0);
    expect(await metric(e.base, "vllm:time_to_first_token_seconds_bucket", 'le="0.5"')).toBe(1);
  });

  it("a chat stream: the role chunk comes with the first token, after the prefill", async () => {
    const e = await engine(["--prefill-ms", "300"]);
    const t0 = performance.now();
    const r = await fetch(`${e.base}/v1/chat/completions`, {
      method: "POST",
      headers: AUTH,
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 2, stream: true }),
    });
    const headersAt = performance.now() - t0;
    const text = await r.text();
    const elapsed = performance.now() - t0;
    const deltas = text
      .split("\n\n")
      .filter((ev) => ev.startsWith("data: {"))
      .map((ev) => JSON.parse(ev.slice(6)).choices[0].delta);
    expect(deltas).toEqual([
      { role: "assistant", content: "" },
      { content: "Hello" },
      { content: " from" },
      {},
    ]);
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(300 * 0.95);
    // Headers do not wait for the prefill (vLLM sends them before the request is scheduled):
    // they arrive well before the body's end, which is 300 ms later at the engine.
    expect(headersAt + 150).toBeLessThan(elapsed);
  });
});
