import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9190 */
  address: string;
  close(): Promise<void>;
}

/**
 * GET /metrics (Prometheus text) and GET /-/healthz; anything else is 404. One server for the
 * process's life, leading or not: `registry` is the leading term's (null while standing by:
 * an empty scrape), so the address a scraper or test was given never changes with the lease.
 */
export async function serveMetrics(
  registry: () => Registry | null,
  host: string,
  port: number,
): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    const r = registry();
    if (req.method === "GET" && path === "/metrics" && !r) {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end("");
    } else if (req.method === "GET" && path === "/metrics" && r) {
      r.metrics().then(
        (body) => res.writeHead(200, { "content-type": r.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    } else if (req.method === "GET" && path === "/-/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const shown = a.family === "IPv6" ? `[${a.address}]` : a.address;
  return {
    address: `http://${shown}:${a.port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
