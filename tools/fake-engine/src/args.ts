import { parseArgs } from "node:util";
import { MAX_MODEL_LEN } from "./openai.js";
import { delayFromRate } from "./timing.js";

/** vLLM's `--max-num-seqs` default (V0 and V1 on smaller GPUs; V1 picks 1024 on large ones). */
export const VLLM_MAX_NUM_SEQS = 256;

export interface EngineOptions {
  host: string;
  port: number;
  /** null = no authentication (vLLM without --api-key). */
  apiKey: string | null;
  model: string;
  /** Listen only after this many ms, like a model that is loading. */
  startupDelayMs: number;
  /** Exit with code 1 once this many requests were answered (a crash); null = never. */
  failAfter: number | null;
  /** At most this many sequences run at once; the rest wait in a FIFO queue (vLLM's --max-num-seqs). */
  maxNumSeqs: number;
  /** Time from a sequence starting to run to its first token (the prefill). */
  prefillMs: number;
  /** Time between a sequence's tokens (one decode step); may be fractional (--tokens-per-second). */
  tokenDelayMs: number;
  tokens: number;
}

export const USAGE = `Usage: fake-openai-engine [options]

A fake OpenAI-compatible engine: the stand-in for vLLM's OpenAI server
(python -m vllm.entrypoints.openai.api_server) on machines without GPUs.
It serves GET /v1/models, POST /v1/completions, POST /v1/chat/completions
(stream: true -> SSE chunks ending with "data: [DONE]"), GET /health and
ANY /echo/* (returns the request's method, path, raw headers and body).

Options (as vLLM's):
  --host HOST              address to bind (default 0.0.0.0)
  --port PORT              port to bind, 0 = any free port (default 8000)
  --api-key KEY            require "Authorization: Bearer KEY" on every /v1/* route;
                           also read from env VLLM_API_KEY. /health and /echo/* stay open.
  --model NAME             the served model id (default fake-model)
  --max-num-seqs N         at most N sequences run at once; the others wait in a FIFO
                           queue (default 256)
GET /metrics (no key needed, as vLLM's) has vLLM's Prometheus metrics.
Test options:
  --startup-delay-ms N     listen only after N ms (a model loading)
  --fail-after N           exit with code 1 after answering N requests (a crash)
  --prefill-ms N           time from a sequence starting to run to its first token (default 0)
  --token-delay-ms N       time between a sequence's tokens, streamed or not (default 0)
  --tokens-per-second R    the same as a rate: --token-delay-ms 1000/R (R may be fractional)
  --tokens N               tokens per completion when max_tokens is not given (default 8,
                           at most 4096, the context length)
  -h, --help               show this help
`;

export type ParsedArgs = { help: true } | { help: false; options: EngineOptions };

/** Parse argv (without node and script) and env; throws an Error naming the bad option. */
export function parseEngineArgs(argv: string[], env: NodeJS.ProcessEnv = {}): ParsedArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      "api-key": { type: "string" },
      model: { type: "string" },
      "startup-delay-ms": { type: "string" },
      "fail-after": { type: "string" },
      "max-num-seqs": { type: "string" },
      "prefill-ms": { type: "string" },
      "token-delay-ms": { type: "string" },
      "tokens-per-second": { type: "string" },
      tokens: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return { help: true };
  const apiKey = values["api-key"] ?? env.VLLM_API_KEY ?? null;
  const rate = values["tokens-per-second"];
  if (rate !== undefined && values["token-delay-ms"] !== undefined)
    throw new Error("--token-delay-ms and --tokens-per-second say the same thing: give one");
  return {
    help: false,
    options: {
      host: values.host ?? "0.0.0.0",
      port: int("--port", values.port, 8000, 0, 65535),
      apiKey: apiKey === "" ? null : apiKey,
      model: values.model ?? "fake-model",
      startupDelayMs: int("--startup-delay-ms", values["startup-delay-ms"], 0, 0),
      failAfter: values["fail-after"] === undefined ? null : int("--fail-after", values["fail-after"], 0, 1),
      maxNumSeqs: int("--max-num-seqs", values["max-num-seqs"], VLLM_MAX_NUM_SEQS, 1),
      prefillMs: int("--prefill-ms", values["prefill-ms"], 0, 0),
      tokenDelayMs:
        rate === undefined
          ? int("--token-delay-ms", values["token-delay-ms"], 0, 0)
          : delayFromRate(positive("--tokens-per-second", rate)),
      tokens: int("--tokens", values.tokens, 8, 1, MAX_MODEL_LEN),
    },
  };
}

function int(name: string, raw: string | undefined, def: number, min: number, max = 2 ** 31): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

/** A positive decimal number (1, 2.5), at most 1e6. */
function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || n <= 0 || n > 1e6)
    throw new Error(`${name} must be a number above 0 and at most 1000000, got "${raw}"`);
  return n;
}
