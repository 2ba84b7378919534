import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

/**
 * A real HTTP server standing in for vLLM's auth: with `token` set, every route needs
 * `Authorization: Bearer <token>` and answers 401 {"error":"Unauthorized"} otherwise.
 * `status` is what an authorised request gets (flip it to make the replica healthy or not).
 */
export async function startUpstream(opts: { token?: string; status?: number } = {}) {
  const seen: SeenRequest[] = [];
  const listeners: ((r: SeenRequest) => void)[] = [];
  /** `hang`: take requests and never answer (an engine that is stuck). */
  const state = { status: opts.status ?? 200, hang: false };
  const server = createServer(async (req: IncomingMessage, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const r: SeenRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      authorization: req.headers.authorization,
      contentType: req.headers["content-type"],
      body,
    };
    seen.push(r);
    for (const l of [...listeners]) l(r);
    if (state.hang) return;
    res.setHeader("content-type", "application/json");
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
      res.statusCode = 401;
      res.end(JSON.stringify({ error: "Unauthorized" }));
      return;
    }
    res.statusCode = state.status;
    res.end(state.status === 204 ? undefined : JSON.stringify({ object: "list", data: [] }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    state,
    /** Resolves with the first request (already seen or future) that matches. */
    nextRequest(match: (r: SeenRequest) => boolean = () => true): Promise<SeenRequest> {
      const hit = seen.find(match);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve) => {
        const l = (r: SeenRequest) => {
          if (!match(r)) return;
          listeners.splice(listeners.indexOf(l), 1);
          resolve(r);
        };
        listeners.push(l);
      });
    },
    /** Like a killed engine: stop listening and cut open connections. */
    async kill() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
