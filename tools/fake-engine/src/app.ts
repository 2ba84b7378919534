import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import type { EngineOptions } from "./args.js";
import { isAuthorized, isGuarded, UNAUTHORIZED_BODY } from "./auth.js";
import {
  fullResponse,
  type Kind,
  modelList,
  modelNotFound,
  newGeneration,
  sse,
  streamChunks,
} from "./openai.js";

export interface EngineHooks {
  /** One line per answered request: method, path, status. Never headers or bodies. */
  log?: (line: string) => void;
  /** Called after the n-th response finished (used for --fail-after). */
  onAnswered?: (n: number) => void;
}

/** The fake engine's HTTP app (not listening yet). */
export function buildEngine(o: EngineOptions, hooks: EngineHooks = {}): FastifyInstance {
  // forceCloseConnections: SIGTERM must not wait for a client holding a stream open.
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const created = Math.floor(Date.now() / 1000);
  let answered = 0;
  let seq = 0;

  app.addHook("onRequest", async (req, reply) => {
    reply.raw.once("finish", () => {
      const path = req.url.split("?")[0];
      hooks.log?.(`fake-openai-engine ${req.method} ${path} ${reply.raw.statusCode}`);
      hooks.onAnswered?.(++answered);
    });
    if (
      o.apiKey !== null &&
      isGuarded(req.method, req.url) &&
      !isAuthorized(req.headers.authorization, o.apiKey)
    )
      return reply.code(401).send(UNAUTHORIZED_BODY);
  });

  app.get("/health", async (_req, reply) => reply.code(200).send(""));
  app.get("/v1/models", async () => modelList(o.model, created));

  const completion = (kind: Kind) => async (req: { body: unknown }, reply: FastifyReply) => {
    const body = (req.body ?? {}) as { model?: unknown; stream?: unknown };
    if (typeof body.model === "string" && body.model !== o.model)
      return reply.code(404).send(modelNotFound(body.model));
    const g = newGeneration(kind, o.model, body, o.tokens, ++seq);
    if (body.stream !== true) return fullResponse(g);
    // Write the SSE stream ourselves: each chunk is written (and so flushed) on its own.
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    for (const chunk of streamChunks(g)) {
      if (res.destroyed) return;
      res.write(sse(chunk));
      if (o.tokenDelayMs > 0) await new Promise((r) => setTimeout(r, o.tokenDelayMs));
    }
    res.end(sse("[DONE]"));
  };
  app.post("/v1/completions", completion("completion"));
  app.post("/v1/chat/completions", completion("chat"));

  // The echo route shows what reached the engine: `headers` is node's rawHeaders, a flat list
  // [name1, value1, name2, value2, ...] in arrival order with repeated headers kept. It needs no key even with --api-key, so header tests see the raw Authorization.
  void app.register(async (echo) => {
    echo.removeAllContentTypeParsers();
    echo.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));
    echo.all("/echo/*", async (req) => ({
      method: req.method,
      path: req.url,
      headers: req.raw.rawHeaders,
      body: typeof req.body === "string" ? req.body : "",
    }));
  });
  return app;
}
