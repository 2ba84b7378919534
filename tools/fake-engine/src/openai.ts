/**
 * OpenAI response shapes as vLLM's OpenAI server returns them. Pure functions: the engine's
 * "model" produces a fixed, deterministic word sequence so that tests can assert on it.
 */
const WORDS = ["Hello", " from", " the", " fake", " OpenAI", " engine", ",", " a", " vLLM", " stand-in", "."];

export type Kind = "completion" | "chat";

export interface Generation {
  id: string;
  created: number;
  model: string;
  kind: Kind;
  promptTokens: number;
  tokens: string[];
}

/** The i-th generated token (deterministic). */
export function tokenAt(i: number): string {
  return WORDS[i % WORDS.length];
}

/** Rough token count of a prompt or chat: whitespace-separated words, as a fake tokenizer. */
export function countPromptTokens(body: unknown): number {
  const b = (body ?? {}) as { prompt?: unknown; messages?: unknown };
  const texts: string[] = [];
  if (typeof b.prompt === "string") texts.push(b.prompt);
  else if (Array.isArray(b.prompt)) texts.push(...b.prompt.filter((p): p is string => typeof p === "string"));
  if (Array.isArray(b.messages))
    for (const m of b.messages) if (typeof m?.content === "string") texts.push(m.content);
  return texts.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0);
}

/** The served model's context length (as `max_model_len` in /v1/models). */
export const MAX_MODEL_LEN = 4096;

/** Tokens the request asks for: `max_tokens` / `max_completion_tokens` when a positive integer. */
export function requestedTokens(body: unknown, defaultTokens: number): number {
  const b = (body ?? {}) as { max_tokens?: unknown; max_completion_tokens?: unknown };
  const max = [b.max_tokens, b.max_completion_tokens].find((v) => Number.isInteger(v) && (v as number) > 0);
  return (max as number | undefined) ?? defaultTokens;
}

/**
 * vLLM's 400 for a request whose prompt plus completion would not fit the context, checked
 * before anything is generated (so `max_tokens: 1e9` costs nothing); null when it fits.
 */
export function contextTooLong(body: unknown, defaultTokens: number): object | null {
  const prompt = countPromptTokens(body);
  const n = requestedTokens(body, defaultTokens);
  if (prompt + n <= MAX_MODEL_LEN) return null;
  return {
    object: "error",
    message:
      `'max_tokens' or 'max_completion_tokens' is too large: ${n}. This model's maximum context ` +
      `length is ${MAX_MODEL_LEN} tokens and your request has ${prompt} input tokens ` +
      `(${n} > ${MAX_MODEL_LEN} - ${prompt}).`,
    type: "BadRequestError",
    param: null,
    code: 400,
  };
}

export function newGeneration(kind: Kind, model: string, body: unknown, defaultTokens: number, seq: number) {
  const n = requestedTokens(body, defaultTokens);
  return {
    id: `${kind === "chat" ? "chatcmpl" : "cmpl"}-fake${seq}`,
    created: Math.floor(Date.now() / 1000),
    model,
    kind,
    promptTokens: countPromptTokens(body),
    tokens: Array.from({ length: n }, (_, i) => tokenAt(i)),
  } satisfies Generation;
}

function usage(g: Generation) {
  return {
    prompt_tokens: g.promptTokens,
    completion_tokens: g.tokens.length,
    total_tokens: g.promptTokens + g.tokens.length,
  };
}

/** The whole (non-streamed) response. */
export function fullResponse(g: Generation): object {
  const text = g.tokens.join("");
  const head = { id: g.id, created: g.created, model: g.model };
  if (g.kind === "chat")
    return {
      ...head,
      object: "chat.completion",
      choices: [
        { index: 0, message: { role: "assistant", content: text }, logprobs: null, finish_reason: "length" },
      ],
      usage: usage(g),
    };
  return {
    ...head,
    object: "text_completion",
    choices: [{ index: 0, text, logprobs: null, finish_reason: "length" }],
    usage: usage(g),
  };
}

/**
 * The SSE chunks of a streamed response, in order (without the final `[DONE]`): for chat a
 * role chunk first, then one chunk per token, then a finish chunk carrying usage.
 */
export function streamChunks(g: Generation): object[] {
  const head = { id: g.id, created: g.created, model: g.model };
  if (g.kind === "chat") {
    const o = { ...head, object: "chat.completion.chunk" };
    const choice = (delta: object, finish: string | null) => ({
      index: 0,
      delta,
      logprobs: null,
      finish_reason: finish,
    });
    return [
      { ...o, choices: [choice({ role: "assistant", content: "" }, null)] },
      ...g.tokens.map((t) => ({ ...o, choices: [choice({ content: t }, null)] })),
      { ...o, choices: [choice({}, "length")], usage: usage(g) },
    ];
  }
  const o = { ...head, object: "text_completion" };
  const choice = (text: string, finish: string | null) => ({
    index: 0,
    text,
    logprobs: null,
    finish_reason: finish,
  });
  return [
    ...g.tokens.map((t) => ({ ...o, choices: [choice(t, null)] })),
    { ...o, choices: [choice("", "length")], usage: usage(g) },
  ];
}

export function sse(data: object | "[DONE]"): string {
  return `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}

export function modelList(model: string, created: number): object {
  return {
    object: "list",
    data: [
      {
        id: model,
        object: "model",
        created,
        owned_by: "vllm",
        root: model,
        parent: null,
        max_model_len: MAX_MODEL_LEN,
      },
    ],
  };
}

/** vLLM's 404 for a request naming another model. */
export function modelNotFound(name: string): object {
  return {
    object: "error",
    message: `The model \`${name}\` does not exist.`,
    type: "NotFoundError",
    param: null,
    code: 404,
  };
}
