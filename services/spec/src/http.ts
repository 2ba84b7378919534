import type { Logger } from "@switchyard/bus";
import { ApplyRequest, type ErrorBody, NameRequest, YardError } from "@switchyard/contracts";
import Fastify, { type FastifyInstance } from "fastify";
import type { z } from "zod";
import type { SpecHandlers } from "./handlers.js";
import { httpStatusOf } from "./http-status.js";

/**
 * The spec API over HTTP: POST /v1/services (JSON ApplyRequest), GET /v1/services,
 * GET /v1/services/:name, DELETE /v1/services/:name. Errors are an ErrorBody with 400/404/500.
 * Fastify's own request logging is off: bodies and headers may carry tokens.
 */
export function buildHttp(h: SpecHandlers, logger: Logger): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true, forceCloseConnections: "idle" });

  const parse = <S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> => {
    const r = schema.safeParse(raw);
    if (r.success) return r.data;
    const issues = r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw new YardError("SY_ERR_BAD_REQUEST", `bad request: ${what}`, issues);
  };

  app.setErrorHandler((err, _req, reply) => {
    const { status, body } = errorReply(err, logger);
    void reply.status(status).send(body);
  });

  app.post("/v1/services", async (req) =>
    h.apply(parse(ApplyRequest, req.body, "the body must be an ApplyRequest")),
  );
  app.get("/v1/services", async () => h.list());
  app.get<{ Params: { name: string } }>("/v1/services/:name", async (req) =>
    h.get(parse(NameRequest, req.params, "service name").name),
  );
  app.delete<{ Params: { name: string } }>("/v1/services/:name", async (req) =>
    h.remove(parse(NameRequest, req.params, "service name").name),
  );
  return app;
}

function errorReply(err: unknown, logger: Logger): { status: number; body: ErrorBody } {
  if (err instanceof YardError) return { status: httpStatusOf(err.code), body: err.toBody() };
  const status = (err as { statusCode?: unknown }).statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    // Fastify's own 4xx: malformed JSON, unsupported media type, body too large.
    return { status, body: { code: "SY_ERR_BAD_REQUEST", message: (err as Error).message, issues: [] } };
  }
  logger.error({ err: String(err) }, "http handler failed");
  return { status: 500, body: { code: "SY_ERR_INTERNAL", message: "internal error", issues: [] } };
}
