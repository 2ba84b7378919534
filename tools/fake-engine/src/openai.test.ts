import { describe, expect, it } from "vitest";
import { contextTooLong, countPromptTokens, fullResponse, newGeneration, streamChunks } from "./openai.js";

describe("openai shapes", () => {
  it.each([
    { name: "prompt string", body: { prompt: "a b  c" }, n: 3 },
    { name: "prompt list", body: { prompt: ["a b", "c"] }, n: 3 },
    { name: "chat messages", body: { messages: [{ role: "user", content: "hi there" }] }, n: 2 },
    { name: "nothing", body: {}, n: 0 },
  ])("counts prompt tokens: $name", ({ body, n }) => {
    expect(countPromptTokens(body)).toBe(n);
  });

  it.each([
    { name: "default tokens", body: {}, n: 8 },
    { name: "max_tokens", body: { max_tokens: 3 }, n: 3 },
    { name: "max_completion_tokens", body: { max_completion_tokens: 2 }, n: 2 },
    { name: "invalid max_tokens ignored", body: { max_tokens: -1 }, n: 8 },
  ])("token count: $name", ({ body, n }) => {
    expect(newGeneration("completion", "m", body, 8, 1).tokens).toHaveLength(n);
  });

  it("completion: text and usage", () => {
    const g = newGeneration("completion", "m", { prompt: "one two", max_tokens: 2 }, 8, 1);
    expect(fullResponse(g)).toMatchObject({
      object: "text_completion",
      model: "m",
      choices: [{ index: 0, text: "Hello from", finish_reason: "length" }],
      usage: { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 },
    });
  });

  it("chat: assistant message", () => {
    const g = newGeneration("chat", "m", { messages: [{ role: "user", content: "x" }], max_tokens: 1 }, 8, 1);
    expect(fullResponse(g)).toMatchObject({
      object: "chat.completion",
      choices: [{ message: { role: "assistant", content: "Hello" } }],
      usage: { total_tokens: 2 },
    });
  });

  it("chat stream: role chunk, one chunk per token, finish chunk with usage", () => {
    const chunks = streamChunks(newGeneration("chat", "m", { max_tokens: 2 }, 8, 1)) as {
      choices: { delta: { content?: string; role?: string }; finish_reason: string | null }[];
      usage?: unknown;
    }[];
    expect(chunks.map((c) => c.choices[0].delta)).toEqual([
      { role: "assistant", content: "" },
      { content: "Hello" },
      { content: " from" },
      {},
    ]);
    expect(chunks.at(-1)).toMatchObject({
      choices: [{ finish_reason: "length" }],
      usage: { completion_tokens: 2 },
    });
  });

  it("completion stream: one chunk per token then a finish chunk", () => {
    const chunks = streamChunks(newGeneration("completion", "m", { max_tokens: 3 }, 8, 1));
    expect(chunks).toHaveLength(4);
    expect(chunks[0]).toMatchObject({ object: "text_completion", choices: [{ text: "Hello" }] });
  });
});

describe("context length (vLLM's max_model_len check)", () => {
  it.each([
    { name: "fits", body: { prompt: "a b", max_tokens: 4094 }, ok: true },
    { name: "one over", body: { prompt: "a b", max_tokens: 4095 }, ok: false },
    { name: "huge max_tokens (no allocation)", body: { max_tokens: 1e9 }, ok: false },
    { name: "default tokens", body: {}, ok: true },
  ])("$name", ({ body, ok }) => {
    const err = contextTooLong(body, 8);
    expect(err === null).toBe(ok);
    if (!ok) expect(err).toMatchObject({ object: "error", type: "BadRequestError", code: 400 });
  });

  it("names the numbers as vLLM does", () => {
    expect(contextTooLong({ prompt: "a b", max_tokens: 5000 }, 8)).toMatchObject({
      message: expect.stringContaining(
        "maximum context length is 4096 tokens and your request has 2 input tokens",
      ),
    });
  });
});
