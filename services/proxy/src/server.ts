import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServerOptions as HttpsOptions } from "node:https";
import type { Duplex } from "node:stream";
import Fastify, { type FastifyInstance } from "fastify";

/**
 * The data-plane HTTP server: fastify with one catch-all route that hands the raw Node
 * request/response to the forwarder (hijacked: fastify neither parses nor buffers bodies; the
 * catch-all content-type parser leaves the stream unread for undici to pipe). With `https`, the
 * same server over TLS (an https.Server, whose setSecureContext swaps the default certificate).
 */
export function createProxyServer(
  forward: (req: IncomingMessage, res: ServerResponse) => void,
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
  https?: HttpsOptions,
): FastifyInstance {
  const app = Fastify({
    ...(https ? { https } : {}),
    logger: false,
    requestIdHeader: false,
    // In-flight requests finish on close; new requests on kept-alive connections still
    // get forwarded (with Connection: close) instead of fastify's 503.
    return503OnClosing: false,
    keepAliveTimeout: 65_000,
    // The replica decides what a body may be; the proxy streams it.
    bodyLimit: Number.MAX_SAFE_INTEGER,
    // Host/URL oddities are the replica's business; fastify must not 404 on a trailing slash.
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: false },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_req, _payload, done) => done(null));
  app.all("*", (request, reply) => {
    reply.hijack();
    forward(request.raw, reply.raw);
  });
  app.server.on("upgrade", upgrade);
  return app;
}
