import { createServer, type ServerResponse } from "node:http";
import { type Dispatcher, Pool } from "undici";

/**
 * The Node floor (issue 13): the least a Node proxy can cost per request. A bare `node:http`
 * server hands each request to `undici` `Pool.dispatch` for one fixed upstream, nothing else:
 * no routing, no header hygiene, no metrics, no retries, no timeouts of its own (GET only:
 * no request body is forwarded). argv: <upstream url>. Prints `listening <port>`.
 */
const [upstream] = process.argv.slice(2);
const pool = new Pool(upstream, { connections: null, pipelining: 1, keepAliveTimeout: 4_000 });

/** Relays one response; the legacy callback API, as Switchyard's forwarder uses. */
class Relay implements Dispatcher.DispatchHandler {
  private resume: (() => void) | null = null;
  constructor(private readonly res: ServerResponse) {}
  onConnect(): void {}
  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    this.resume = resume;
    const headers: string[] = [];
    for (const b of raw) headers.push(b.toString("latin1"));
    this.res.writeHead(status, statusText, headers);
    return true;
  }
  onData(chunk: Buffer): boolean {
    const ok = this.res.write(chunk);
    if (!ok) this.res.once("drain", this.resume!);
    return ok;
  }
  onComplete(): void {
    this.res.end();
  }
  onError(): void {
    this.res.destroy();
  }
}

const server = createServer((req, res) => {
  pool.dispatch(
    { method: req.method as Dispatcher.HttpMethod, path: req.url!, headers: req.rawHeaders },
    new Relay(res),
  );
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  const a = server.address();
  console.log(`listening ${typeof a === "object" && a ? a.port : 0}`);
});
// SIGTERM: stop serving and drop the upstream connections at once (a graceful pool close could
// wait on them); the process then ends by itself and a --cpu-prof profile is written.
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void pool.destroy();
});
