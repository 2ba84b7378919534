import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { type Proc, REPO_ROOT, startProc, startTs } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAIN, metric, startEngine } from "./helpers.js";

const KEY = "engine-key-7f3a";

describe("fake OpenAI engine with --api-key", () => {
  let e: { proc: Proc; base: string };
  const auth = { authorization: `Bearer ${KEY}` };
  beforeAll(async () => {
    e = await startEngine(["--api-key", KEY, "--model", "m1", "--token-delay-ms", "150", "--tokens", "5"]);
  });
  afterAll(async () => {
    expect(await e.proc.stop()).toBe(0);
  });

  it.each<{ name: string; headers: Record<string, string> }>([
    { name: "no Authorization", headers: {} },
    { name: "wrong key", headers: { authorization: "Bearer wrong" } },
    { name: "key without Bearer", headers: { authorization: KEY } },
  ])("answers 401 with vLLM's body on /v1/models: $name", async ({ headers }) => {
    const r = await fetch(`${e.base}/v1/models`, { headers });
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ error: "Unauthorized" });
  });

  it("401 on POST /v1/chat/completions without the key", async () => {
    const r = await fetch(`${e.base}/v1/chat/completions`, { method: "POST", body: "{}" });
    expect(r.status).toBe(401);
  });

  it("lists the model with the key", async () => {
    const r = await fetch(`${e.base}/v1/models`, { headers: auth });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ object: "list", data: [{ id: "m1", object: "model" }] });
  });

  it("/health needs no key", async () => {
    expect((await fetch(`${e.base}/health`)).status).toBe(200);
  });

  it("/metrics needs no key either (as vLLM's) and speaks Prometheus text with vLLM's names", async () => {
    const r = await fetch(`${e.base}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    expect(text).toContain("# TYPE vllm:num_requests_running gauge\n");
    expect(text).toContain("# TYPE vllm:time_to_first_token_seconds histogram\n");
    expect(await metric(e.base, "vllm:num_requests_waiting", 'model_name="m1",engine="0"')).toBe(0);
  });

  it("completes a chat with usage; another model id is a 404", async () => {
    const post = (body: object) =>
      fetch(`${e.base}/v1/chat/completions`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const ok = await post({ model: "m1", messages: [{ role: "user", content: "hi" }], max_tokens: 3 });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      object: "chat.completion",
      choices: [{ message: { role: "assistant", content: "Hello from the" } }],
      usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 },
    });
    const other = await post({ model: "other", messages: [] });
    expect(other.status).toBe(404);
  });

  it("max_tokens beyond the context is vLLM's 400 at once, not a billion tokens", async () => {
    const r = await fetch(`${e.base}/v1/completions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "x", max_tokens: 1e9, stream: true }),
    });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ object: "error", type: "BadRequestError", code: 400 });
  });

  it("streams SSE chunks as they are produced, ending with [DONE]", async () => {
    const r = await fetch(`${e.base}/v1/completions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "x", stream: true }),
    });
    expect(r.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reads: { at: number; text: string }[] = [];
    const dec = new TextDecoder();
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>)
      reads.push({ at: performance.now(), text: dec.decode(chunk) });
    const events = reads
      .map((x) => x.text)
      .join("")
      .split("\n\n")
      .filter(Boolean);
    expect(events.at(-1)).toBe("data: [DONE]");
    expect(events).toHaveLength(5 + 2); // 5 tokens, the finish chunk, [DONE]
    const texts = events.slice(0, 5).map((ev) => JSON.parse(ev.slice(6)).choices[0].text);
    expect(texts.join("")).toBe("Hello from the fake OpenAI");
    // Tokens are 150 ms apart: a buffered response would arrive in one read at the end.
    // A slow machine only widens the gaps, so this lower bound cannot flake.
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(reads.at(-1)!.at - reads[0].at).toBeGreaterThanOrEqual(4 * 150 * 0.8);
  });

  it("echo returns method, path with query, raw headers in order (repeats kept) and body, without a key", async () => {
    const url = new URL(`${e.base}/echo/a/b?x=1`);
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method: "PUT",
          path: `${url.pathname}${url.search}`,
          headers: [
            "Host",
            url.host,
            "X-Dup",
            "one",
            "Authorization",
            "Bearer abc",
            "X-Dup",
            "two",
            "Content-Type",
            "text/plain",
            "Content-Length",
            "10",
          ],
        },
        (res) => {
          let s = "";
          res.on("data", (d) => (s += d));
          res.on("end", () => resolve(s));
        },
      );
      req.on("error", reject);
      req.end("hello body");
    });
    const echo = JSON.parse(body) as { method: string; path: string; headers: string[]; body: string };
    expect(echo.method).toBe("PUT");
    expect(echo.path).toBe("/echo/a/b?x=1");
    expect(echo.body).toBe("hello body");
    // node appends its own Connection header after ours.
    expect(echo.headers.slice(0, 12)).toEqual([
      "Host",
      url.host,
      "X-Dup",
      "one",
      "Authorization",
      "Bearer abc",
      "X-Dup",
      "two",
      "Content-Type",
      "text/plain",
      "Content-Length",
      "10",
    ]);
  });

  it("never prints the key or an Authorization value", () => {
    expect(e.proc.lines.length).toBeGreaterThan(3);
    expect(e.proc.lines.join("\n")).not.toContain(KEY);
    expect(e.proc.lines.join("\n")).not.toContain("Bearer");
    expect(e.proc.lines).toContain("fake-openai-engine GET /v1/models 401");
  });
});

describe("fake OpenAI engine test options", () => {
  it("--fail-after 2: answers two requests, then exits with code 1", async () => {
    const { proc, base } = await startEngine(["--fail-after", "2"]);
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect((await fetch(`${base}/v1/models`)).status).toBe(200);
    expect(await proc.exited).toBe(1);
  });

  it("--startup-delay-ms: the port refuses connections until the engine listens", async () => {
    const port = await freePort();
    const proc = startTs(MAIN, ["--host", "127.0.0.1", "--port", String(port), "--startup-delay-ms", "2500"]);
    await proc.waitForLine(/loading for 2500 ms/);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    await proc.waitForLine(/listening on/);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    expect(await proc.stop()).toBe(0);
  });

  it("SIGTERM during an open stream: exits 0", async () => {
    const { proc, base } = await startEngine(["--token-delay-ms", "1000", "--tokens", "50"]);
    const r = await fetch(`${base}/v1/completions`, {
      method: "POST",
      body: '{"stream":true}',
      headers: { "content-type": "application/json" },
    });
    const reader = r.body!.getReader();
    await reader.read(); // the first chunk arrived: the stream is open
    expect(await proc.stop()).toBe(0);
  });

  it("the installed bin prints a help naming it the vLLM stand-in", async () => {
    const proc = startProc(join(REPO_ROOT, "node_modules/.bin/fake-openai-engine"), ["--help"]);
    expect(await proc.exited).toBe(0);
    expect(proc.lines.join("\n")).toMatch(/stand-in for vLLM/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}
