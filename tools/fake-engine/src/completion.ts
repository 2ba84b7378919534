import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { EngineOptions } from "./args.js";
import { type EngineMetrics, observe } from "./metrics.js";
import {
  contextTooLong,
  fullResponse,
  type Generation,
  type Kind,
  modelNotFound,
  newGeneration,
  sse,
  streamChunks,
} from "./openai.js";
import { LeftWhileWaiting, type Slots } from "./slots.js";
import { waitBeforeToken } from "./timing.js";

export interface CompletionDeps {
  o: EngineOptions;
  slots: Slots;
  metrics: EngineMetrics;
  log?: (line: string) => void;
  /** Numbers completions in arrival order, across both routes (the `-fake<n>` of their ids). */
  nextId: () => number;
}

/**
 * POST /v1/completions and /v1/chat/completions with vLLM's capacity model: the request waits
 * for one of `--max-num-seqs` slots (FIFO), then produces its tokens on the timing schedule
 * (timing.ts), streamed as SSE chunks or answered whole when the last token is due. A client
 * that disconnects leaves the queue or gives its slot back at once.
 */
export function completionRoute(kind: Kind, d: CompletionDeps) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const body = (req.body ?? {}) as { model?: unknown; stream?: unknown };
    // vLLM checks the model before scheduling: a wrong one never waits.
    if (typeof body.model === "string" && body.model !== d.o.model)
      return reply.code(404).send(modelNotFound(body.model));
    const tooLong = contextTooLong(body, d.o.tokens);
    if (tooLong) return reply.code(400).send(tooLong);
    const g = newGeneration(kind, d.o.model, body, d.o.tokens, d.nextId());
    const stream = body.stream === true;
    const arrived = performance.now();
    // Written by hand from here on: the stream chunk by chunk (each write is flushed), and the
    // socket's close seen as the client leaving, whichever the phase.
    reply.hijack();
    const res = reply.raw;
    const left = new AbortController();
    res.once("close", () => {
      if (!res.writableEnded) left.abort();
    });
    // As vLLM (a StreamingResponse), a stream's headers go out before the request is scheduled.
    if (stream) res.writeHead(200, SSE_HEADERS).flushHeaders();

    let release: () => void;
    try {
      release = await d.slots.acquire(left.signal);
    } catch (err) {
      if (!(err instanceof LeftWhileWaiting)) throw err;
      d.log?.(`fake-openai-engine POST ${req.url.split("?")[0]} client left while waiting`);
      return;
    }
    try {
      await run(g, stream, res, left.signal, arrived, d);
    } finally {
      release();
    }
    if (left.signal.aborted)
      d.log?.(`fake-openai-engine POST ${req.url.split("?")[0]} client left while running`);
  };
}

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
};

/** Produces the generation's tokens on schedule; returns early when the client left. */
async function run(
  g: Generation,
  stream: boolean,
  res: ServerResponse,
  signal: AbortSignal,
  arrived: number,
  d: CompletionDeps,
): Promise<void> {
  const started = performance.now();
  const chunks = stream ? streamChunks(g) : [];
  // Chat streams open with a role chunk, sent with the first token (as vLLM's first output).
  const lead = g.kind === "chat" ? 1 : 0;
  for (let i = 0; i < g.tokens.length; i++) {
    const wait = waitBeforeToken(d.o, i, performance.now() - started);
    if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => {});
    if (signal.aborted) return;
    if (i === 0) {
      observe(d.metrics.ttft, (performance.now() - arrived) / 1000);
      d.metrics.promptTokens += g.promptTokens;
    }
    d.metrics.generationTokens++;
    if (stream) {
      if (i === 0 && lead) res.write(sse(chunks[0]));
      res.write(sse(chunks[lead + i]));
    }
  }
  if (stream) {
    res.write(sse(chunks[chunks.length - 1]));
    res.end(sse("[DONE]"));
  } else {
    res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(fullResponse(g)));
  }
  const done = performance.now();
  d.metrics.success.length++;
  observe(d.metrics.e2e, (done - arrived) / 1000);
  observe(d.metrics.queueTime, (started - arrived) / 1000);
}
