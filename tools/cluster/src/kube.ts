import { request as httpsRequest } from "node:https";
import type { Access } from "./kubeconfig-read.js";

export interface KubeResponse {
  status: number;
  body: string;
}

/**
 * A minimal client of the cluster's API (what `up`, `status` and clusterAvailable need): the
 * token in a header, the cluster CA trusted, nothing else. Tests use @kubernetes/client-node or
 * kubectl with the kubeconfig instead.
 */
export function kubeRequest(
  a: Access,
  method: string,
  path: string,
  opts: { body?: unknown; contentType?: string; timeoutMs?: number } = {},
): Promise<KubeResponse> {
  const url = new URL(path, a.server);
  const data = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method,
        ca: a.caPem,
        headers: {
          authorization: `Bearer ${a.token}`,
          accept: "application/json",
          ...(data ? { "content-type": opts.contentType ?? "application/json" } : {}),
        },
        timeout: opts.timeoutMs ?? 5000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () =>
      req.destroy(new Error(`${method} ${url.pathname}: no answer in ${opts.timeoutMs ?? 5000} ms`)),
    );
    req.on("error", reject);
    req.end(data);
  });
}

/**
 * Watch a collection (`path` without `watch=`): `onEvent` gets each event's object until it
 * returns true (then resolves) or `signal` aborts (rejects). Starts from the list's state (the
 * API sends ADDED for every existing object first).
 */
export function kubeWatch<T>(
  a: Access,
  path: string,
  onEvent: (type: string, obj: T) => boolean,
  signal: AbortSignal,
): Promise<void> {
  const url = new URL(path, a.server);
  url.searchParams.set("watch", "true");
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { ca: a.caPem, headers: { authorization: `Bearer ${a.token}` }, signal },
      (res) => {
        if (res.statusCode !== 200) {
          req.destroy();
          reject(new Error(`watch ${url.pathname}: HTTP ${res.statusCode}`));
          return;
        }
        let buf = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          buf += d;
          let nl = buf.indexOf("\n");
          while (nl >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            nl = buf.indexOf("\n");
            if (!line.trim()) continue;
            const ev = JSON.parse(line) as { type: string; object: T };
            if (onEvent(ev.type, ev.object)) {
              req.destroy();
              resolve();
              return;
            }
          }
        });
        res.on("end", () => reject(new Error(`watch ${url.pathname} ended`)));
        res.on("error", (err) => reject(err));
      },
    );
    req.on("error", reject);
    req.end();
  });
}
