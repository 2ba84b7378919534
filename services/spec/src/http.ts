import type { Logger } from "@switchyard/bus";
import { ApplyRequest, type ErrorBody, NameRequest, YardError } from "@switchyard/contracts";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import type { z } from "zod";
import type { SpecConfig } from "./config.js";
import type { SpecHandlers } from "./handlers.js";
import { allowedHostsFor, checkRequest, type GuardConfig } from "./http-guard.js";
import { httpStatusOf } from "./http-status.js";

export type HttpApiConfig = Pick<
  SpecConfig,
  | "YARD_SPEC_HTTP_HOST"
  | "YARD_SPEC_HTTP_PORT"
  | "YARD_SPEC_API_TOKEN"
  | "YARD_SPEC_HTTP_ALLOWED_HOSTS"
  | "YARD_SPEC_HTTP_ALLOWED_ORIGINS"
>;

export interface HttpApi {
  address: string;
  close(): Promise<void>;
}

/**
 * Serve the HTTP API, only with a token: whoever may publish a spec may run code on the hosts.
 * Without one it stays off (the NATS API, with its per-user permissions, still serves).
 */
export async function startHttpApi(
  h: SpecHandlers,
  config: HttpApiConfig,
  logger: Logger,
): Promise<HttpApi | null> {
  const token = config.YARD_SPEC_API_TOKEN;
  if (!token) {
    logger.warn({}, "HTTP API off: set YARD_SPEC_API_TOKEN or YARD_SPEC_API_TOKEN_FILE to serve it");
    return null;
  }
  const allowedHosts = new Set<string>();
  const allowedOrigins = new Set(config.YARD_SPEC_HTTP_ALLOWED_ORIGINS.map((o) => o.toLowerCase()));
  const app = buildHttp(h, { token, allowedHosts, allowedOrigins }, logger);
  const address = await app.listen({ host: config.YARD_SPEC_HTTP_HOST, port: config.YARD_SPEC_HTTP_PORT });
  // The port is known only now (0 picks one); until the set is filled every request gets 403.
  const { port } = app.server.address() as { port: number };
  for (const x of allowedHostsFor(config.YARD_SPEC_HTTP_HOST, port, config.YARD_SPEC_HTTP_ALLOWED_HOSTS))
    allowedHosts.add(x);
  logger.info({ address }, "listening");
  return { address, close: () => app.close() };
}

/**
 * The spec API over HTTP: POST /v1/services (JSON ApplyRequest), GET /v1/services,
 * GET /v1/services/:name, DELETE /v1/services/:name. Errors are an ErrorBody with 400/401/403/404/500.
 * Every request passes the guard (bearer token, Host, Origin) before its body is read.
 * Fastify's own request logging is off: bodies and headers may carry tokens.
 */
export function buildHttp(h: SpecHandlers, guard: GuardConfig, logger: Logger): FastifyInstance {
  const app = Fastify({
    logger: false,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    bodyLimit: BODY_LIMIT,
  });

  app.addHook("onRequest", async (req, reply) => {
    const v = checkRequest(
      { host: req.headers.host, origin: req.headers.origin, authorization: req.headers.authorization },
      guard,
    );
    if (v.ok) {
      const declared = Number(req.headers["content-length"]);
      if (!(declared > BODY_LIMIT)) return;
      // Refused before a byte of it is read. Fastify's own check would answer and close at once,
      // and a client still writing its body then meets a reset instead of reading the 413.
      keepOrClose(reply, declared);
      return reply.status(413).send({
        code: "SY_ERR_TOO_LARGE",
        message: `the request body (${declared} bytes) is larger than ${BODY_LIMIT} bytes`,
        issues: [],
      } satisfies ErrorBody);
    }
    logger.warn(
      { code: v.code, method: req.method, remote: req.socket.remoteAddress },
      "http request refused",
    );
    if (v.status === 401) void reply.header("www-authenticate", 'Bearer realm="switchyard"');
    keepOrClose(reply, Number(req.headers["content-length"] ?? 0));
    return reply.status(v.status).send({ code: v.code, message: v.message, issues: [] } satisfies ErrorBody);
  });

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

/** The largest body the API reads: an apply request's record must fit NATS's max_payload anyway. */
const BODY_LIMIT = 1024 * 1024;
/**
 * After a refusal Node reads and drops the unread body (keep-alive), so the client finishes
 * writing and reads the answer. That is bounded: a body declared larger than this, or one of
 * unknown length, closes the connection after the answer instead of being read.
 */
const DRAIN_LIMIT = 8 * BODY_LIMIT;

function keepOrClose(reply: FastifyReply, declared: number): void {
  if (!(declared >= 0 && declared <= DRAIN_LIMIT) || reply.request.headers["transfer-encoding"])
    void reply.header("connection", "close");
}

function errorReply(err: unknown, logger: Logger): { status: number; body: ErrorBody } {
  if (err instanceof YardError) return { status: httpStatusOf(err.code), body: err.toBody() };
  const status = (err as { statusCode?: unknown }).statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    // Fastify's own 4xx: malformed JSON, unsupported media type, body too large (413).
    const code = status === 413 ? "SY_ERR_TOO_LARGE" : "SY_ERR_BAD_REQUEST";
    return { status, body: { code, message: (err as Error).message, issues: [] } };
  }
  logger.error({ err: String(err) }, "http handler failed");
  return { status: 500, body: { code: "SY_ERR_INTERNAL", message: "internal error", issues: [] } };
}
