import { EventEmitter, once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * A controllable replica for proxy tests (node:http): every route answers with `x-replica`.
 * Events: `request` (a request arrived: the IncomingMessage, upgrades included), `upload-bytes`
 * (first body bytes arrived), `stream-closed` (a streaming response's connection went away
 * before it ended).
 */
export class Upstream extends EventEmitter {
  server!: Server;
  url!: string;
  /** Resolvers the test calls to let /sse and /hold continue. */
  readonly gates: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();

  constructor(readonly id: string) {
    super();
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    });
    this.server.on("upgrade", (req, socket) => {
      this.emit("request", req);
      socket.on("error", () => socket.destroy()); // a proxy may reset a tunnel at any time
      socket.on("end", () => socket.end()); // no half-open tunnels: the proxy's FIN ends ours too
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\nX-Replica: ${this.id}\r\n\r\n`,
      );
      socket.on("data", (d: Buffer) => socket.write(Buffer.concat([Buffer.from("echo:"), d])));
    });
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Client connections open right now (kept-alive and upgraded ones included). */
  get openSockets(): number {
    return this.sockets.size;
  }

  gate(): Promise<void> {
    return new Promise((r) => this.gates.push(r));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.emit("request", req);
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/cookies") {
      // Flat [name, value, ...] list: Node writes repeated Set-Cookie lines as given.
      res.writeHead(200, [
        "Set-Cookie",
        "a=1; Path=/; HttpOnly",
        "Set-Cookie",
        "b=two; Max-Age=60",
        "X-Odd",
        'v;  with  spaces, and "quotes"',
        "x-replica",
        this.id,
      ] as unknown as Record<string, string>);
      res.end("ok");
      return;
    }
    res.setHeader("x-replica", this.id);
    if (path === "/echo") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = JSON.stringify({
          method: req.method,
          url: req.url,
          headers: req.rawHeaders,
          body: Buffer.concat(chunks).toString("latin1"),
        });
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        res.end(body);
      });
    } else if (path === "/upload") {
      let n = 0;
      req.on("data", (c: Buffer) => {
        if (n === 0) this.emit("upload-bytes");
        n += c.length;
      });
      req.on("end", () => res.end(String(n)));
    } else if (path === "/sse") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: 1\n\n");
      void this.gate().then(() => res.end("data: 2\n\n"));
    } else if (path === "/queued") {
      // A stream whose first token has to wait (the engine's queue): headers now, body later.
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.flushHeaders();
      void this.gate().then(() => res.end("data: 1\n\n"));
    } else if (path === "/hold") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first\n");
      res.on("close", () => {
        if (!res.writableFinished) this.emit("stream-closed");
      });
      void this.gate().then(() => res.end("last\n"));
    } else if (path === "/reset") {
      req.socket.destroy();
    } else if (path === "/fail") {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end("boom");
    } else {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`hello from ${this.id}`);
    }
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy(); // upgraded sockets too
    await new Promise((r) => this.server.close(r));
  }
}
