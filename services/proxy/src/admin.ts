import Fastify, { type FastifyInstance } from "fastify";
import type { RoutesView } from "./routes-view.js";

export interface AdminSource {
  routes(): Promise<RoutesView> | RoutesView;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** ready: snapshots loaded and not shutting down. */
  ready(): Promise<boolean> | boolean;
}

/** The admin server (YARD_PROXY_ADMIN_HOST:PORT): /-/routes, /metrics, /-/healthz, /-/ready. */
export function createAdminServer(src: AdminSource, onError?: (err: unknown) => void): FastifyInstance {
  const app = Fastify({ logger: false });
  app.setErrorHandler((err, _req, reply) => {
    onError?.(err);
    return reply.code(500).send({ code: "SY_ERR_INTERNAL", message: "admin request failed", issues: [] });
  });
  app.get("/-/healthz", async () => ({ ok: true }));
  app.get("/-/ready", async (_req, reply) => {
    const ok = await src.ready();
    return reply.code(ok ? 200 : 503).send({ ready: ok });
  });
  app.get("/-/routes", async () => src.routes());
  app.get("/metrics", async (_req, reply) => {
    const m = await src.metrics();
    return reply.header("content-type", m.contentType).send(m.body);
  });
  return app;
}
