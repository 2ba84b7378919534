import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { ErrorBody } from "@switchyard/contracts";

/** The data-plane HTTP(S) server and its lifecycle. */
export interface ProxyServer {
  /** The Node server: an https.Server with TLS (its setSecureContext swaps the default certificate). */
  readonly server: Server;
  /** Resolves with the address it listens on, `http(s)://host:port`. */
  listen(at: { host: string; port: number }): Promise<string>;
  /**
   * Stop taking connections and close the idle kept-alive ones (Node's close does); resolves
   * once the last connection closed.
   */
  close(): Promise<void>;
}

/**
 * The data plane is a bare `node:http` (or `node:https`) server whose request handler is the
 * forwarder itself: no framework between Node's parser and undici (fastify's routing, request
 * and reply objects were the largest part of what the proxy spent per request over the Node
 * floor of `pnpm bench proxy`).
 * The forwarder reads nothing but the raw request, so a framework had nothing to add: it takes
 * every method and target (origin-form, absolute-form; `*` gets our 400), streams bodies itself,
 * and on a drain says `Connection: close` itself (`res.shouldKeepAlive`).
 */
export function createProxyServer(
  forward: (req: IncomingMessage, res: ServerResponse) => void,
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
  https?: HttpsOptions,
): ProxyServer {
  const server: Server = https ? createHttpsServer(https, forward) : createServer(forward);
  server.keepAliveTimeout = 65_000;
  // Node's default (300 s) would cut a long upload; the body's own idle watch (408) applies instead.
  server.requestTimeout = 0;
  server.on("upgrade", upgrade);
  server.on("clientError", answerClientError);
  const scheme = https ? "https" : "http";
  return {
    server,
    listen: (at) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host: at.host, port: at.port }, () => {
          server.off("error", reject);
          resolve(`${scheme}://${hostOf(server.address() as AddressInfo)}`);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
      }),
  };
}

/** `host:port` a client can use: the loopback address for a wildcard one, IPv6 in brackets. */
function hostOf(a: AddressInfo): string {
  if (a.address === "0.0.0.0") return `127.0.0.1:${a.port}`;
  return a.family === "IPv6" ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/**
 * What Node's parser refused (a malformed request line or header, a head too large, a head
 * that took longer than headersTimeout): a coded 4xx and the connection closed, as Node's own
 * handler does, unless a response is already going out on it (then only the close).
 */
function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const busy = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.writable && !busy?.headersSent) {
    const status =
      err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    const message =
      status === 431
        ? "the request head is too large"
        : status === 408
          ? "the request head did not arrive in time"
          : "the request is not valid HTTP/1.1";
    const body: ErrorBody = { code: "SY_ERR_BAD_REQUEST", message, issues: [] };
    const text = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
  }
  socket.destroy(err);
}
