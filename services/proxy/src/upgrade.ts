import { type IncomingMessage, type Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Forwarder } from "./forward.js";

/** Hop-by-hop headers dropped from a 101; Connection and Upgrade are the switch itself and stay. */
const TUNNEL_DROP = new Set(["keep-alive", "proxy-connection", "te", "transfer-encoding"]);

/**
 * Node's `upgrade` event: a request with `Connection: upgrade`, whose socket Node has let go of.
 * It goes through the one attempt pipeline (forward.ts) with a ServerResponse of our own on the
 * socket. Only a replica's `101` turns the connection into a tunnel; any other answer (our 404,
 * the replica's 200) is an HTTP response, after which the socket goes back to the HTTP server:
 * the next request on it is parsed, routed and logged like any other.
 */
export function createUpgradeHandler(forward: Forwarder) {
  const idleMs = forward.opts.idleTimeoutMs;
  return (req: IncomingMessage, duplex: Duplex, head: Buffer): void => {
    const socket = duplex as HttpSocket;
    // Before any write: a client may reset at any moment (issue 8: an unhandled ECONNRESET
    // here ended the process).
    const onError = () => socket.destroy();
    socket.on("error", onError);
    whenFree(socket, () => answer(forward, idleMs, req, socket, head, onError));
  };
}

/** Node's own sockets: the response now writing to it, and the server that accepted it. */
type HttpSocket = Socket & { _httpMessage?: ServerResponse | null; server?: Server };

/**
 * An Upgrade pipelined behind other requests arrives while their responses still write to the
 * socket (Node queues them): ours goes after the last of them.
 */
function whenFree(socket: HttpSocket, go: () => void): void {
  if (socket.destroyed || !socket.writable) return; // e.g. the one before said Connection: close
  const busy = socket._httpMessage;
  if (busy) busy.once("finish", () => whenFree(socket, go));
  else go();
}

/** Our response on the socket; a 101 from the replica switches it to a tunnel instead. */
function answer(
  forward: Forwarder,
  idleMs: number,
  req: IncomingMessage,
  socket: HttpSocket,
  head: Buffer,
  onError: () => void,
): void {
  const res = new ServerResponse(req);
  res.assignSocket(socket);
  res.shouldKeepAlive = wantsKeepAlive(req);
  let switched = false;
  res.once("finish", () => {
    if (!switched) handBack(socket, res, head, onError);
  });
  forward.upgrade(req, res, {
    protocol: String(req.headers.upgrade),
    open(raw, upstream, closed) {
      switched = true;
      res.detachSocket(socket);
      splice(socket, upstream as Socket, raw, head, idleMs, closed);
    },
  });
}

/** HTTP/1.1 without `Connection: close` (ServerResponse already says no for HTTP/1.0). */
function wantsKeepAlive(req: IncomingMessage): boolean {
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor < 1) return false;
  const c = req.headers.connection;
  return c === undefined || !c.split(",").some((t) => t.trim().toLowerCase() === "close");
}

/** After an HTTP answer: the socket is an HTTP connection again, or it is closed. */
function handBack(socket: HttpSocket, res: ServerResponse, head: Buffer, onError: () => void): void {
  res.detachSocket(socket);
  const server = socket.server;
  if (!res.shouldKeepAlive || socket.destroyed || socket.readableEnded || !server) {
    socket.end();
    return;
  }
  socket.setTimeout(0); // a keep-alive timer Node left from an earlier response on it
  socket.removeListener("error", onError); // Node's own handler replaces it within emit()
  if (head.length > 0) socket.unshift(head); // bytes after the request head: the next request
  // An HTTPS server takes its HTTP connections as 'secureConnection' (the TLS layer is done).
  server.emit(
    (socket as Socket & { encrypted?: boolean }).encrypted ? "secureConnection" : "connection",
    socket,
  );
}

/**
 * The replica switched protocols: its 101 head to the client, then bytes both ways with
 * back-pressure. Either side ending, failing or idling past `idleMs` ends both (no half-open
 * tunnels) and calls `closed` once, with a reason when the replica's side failed.
 */
function splice(
  client: Socket,
  up: Socket,
  raw: Buffer[],
  head: Buffer,
  idleMs: number,
  closed: (error?: string) => void,
): void {
  let over = false;
  let error: string | undefined;
  const end = () => {
    if (over) return;
    over = true;
    up.destroy();
    client.destroy();
    closed(error);
  };
  up.on("error", (e: Error & { code?: string }) => {
    error ??= `tunnel:${e.code ?? e.name}`;
    end();
  });
  // Gone, or half-closed (FIN) while the replica was answering: no tunnel to a client that
  // sends nothing more ('end' may have passed before this listener could see it).
  if (client.destroyed || !client.readable) {
    end();
    return;
  }
  let text = "HTTP/1.1 101 Switching Protocols\r\n";
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString("latin1");
    if (!TUNNEL_DROP.has(name.toLowerCase())) text += `${name}: ${raw[i + 1].toString("latin1")}\r\n`;
  }
  client.write(`${text}\r\n`, "latin1");
  if (head.length > 0) up.write(head);
  client.pipe(up);
  up.pipe(client);
  if (idleMs > 0) {
    up.setTimeout(idleMs);
    up.on("timeout", end); // an idle tunnel is closed, as nginx's proxy_read_timeout does
  }
  up.once("end", end);
  client.once("end", end);
  up.once("close", end);
  client.once("close", end);
}
