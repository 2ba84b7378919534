import Fastify, { type FastifyInstance } from "fastify";
import type { EngineOptions } from "./args.js";
import { isAuthorized, isGuarded, UNAUTHORIZED_BODY } from "./auth.js";
import { completionRoute } from "./completion.js";
import { newEngineMetrics, renderMetrics } from "./metrics.js";
import { modelList } from "./openai.js";
import { Slots } from "./slots.js";

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
  const slots = new Slots(o.maxNumSeqs);
  const metrics = newEngineMetrics();

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

  let seq = 0;
  const deps = { o, slots, metrics, log: hooks.log, nextId: () => ++seq };
  app.post("/v1/completions", completionRoute("completion", deps));
  app.post("/v1/chat/completions", completionRoute("chat", deps));
  // Outside /v1, so open without the key, as vLLM's /metrics (its auth guards /v1 only).
  app.get("/metrics", async (_req, reply) =>
    reply
      .type("text/plain; version=0.0.4; charset=utf-8")
      .send(renderMetrics(o.model, metrics, { running: slots.running, waiting: slots.waiting })),
  );

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
