import type { IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Pool } from "undici";
import type { ForwardDeps } from "./forward.js";
import { resolveService } from "./host.js";
import { Lease } from "./lease.js";
import type { Replica, ServiceEntry } from "./route-table.js";

/** Hop-by-hop headers dropped on an upgrade; Connection and Upgrade themselves are kept. */
const DROP = new Set(["keep-alive", "proxy-connection", "te", "transfer-encoding", "host"]);

/**
 * WebSocket / any `Upgrade` request: open a TCP connection to a replica, replay the request
 * head (Host rewritten to the replica), then splice bytes both ways. The replica's answer
 * (101 or an error) reaches the client untouched. Connect errors retry on another replica.
 */
export function createUpgradeHandler(deps: ForwardDeps) {
  const { table, opts } = deps;
  return (req: IncomingMessage, client: Duplex, head: Buffer): void => {
    const found = resolveService(
      req.headers.host,
      opts.domain,
      opts.defaultService,
      (n) => table.get(n),
      () => table.only(),
    );
    if (found.kind === "unknown") {
      rawError(client, 404, "SY_ERR_UNKNOWN_SERVICE", "unknown service");
      return;
    }
    client.on("error", () => client.destroy());
    attempt(deps, found.service, req, client, head, [], 0);
  };
}

function attempt(
  deps: ForwardDeps,
  svc: ServiceEntry<Pool>,
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  tried: Replica<Pool>[],
  n: number,
): void {
  const r = svc.policy.pick(svc.replicas, svc.state, Date.now(), tried);
  if (!r) {
    const code = n === 0 ? "SY_ERR_NO_READY_REPLICA" : "SY_ERR_UPSTREAM";
    rawError(client, n === 0 ? 503 : 502, code, `no replica of "${svc.name}" answered`);
    return;
  }
  const url = new URL(r.url);
  const lease = new Lease(r);
  const up: Socket = connect({ host: url.hostname, port: Number(url.port || 80) });
  let connected = false;
  up.setTimeout(deps.opts.idleTimeoutMs || 0);
  up.once("connect", () => {
    connected = true;
    let text = `${req.method} ${req.url} HTTP/1.1\r\nHost: ${url.host}\r\n`;
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      if (!DROP.has(raw[i].toLowerCase())) text += `${raw[i]}: ${raw[i + 1]}\r\n`;
    }
    up.write(`${text}\r\n`, "latin1");
    if (head.length) up.write(head);
    client.pipe(up);
    up.pipe(client);
  });
  const end = () => {
    lease.release();
    up.destroy();
    client.destroy();
  };
  up.on("timeout", end);
  // No half-open tunnels: either side ending (FIN) tears both down and frees the lease.
  up.once("end", end);
  client.once("end", end);
  up.on("close", () => {
    if (connected || client.destroyed) end();
  });
  client.once("close", end);
  up.on("error", () => {
    if (connected) {
      end();
      return;
    }
    lease.release();
    client.removeListener("close", end);
    if (client.destroyed) return;
    deps.eject(r);
    tried.push(r);
    if (n < deps.opts.retries) attempt(deps, svc, req, client, head, tried, n + 1);
    else rawError(client, 502, "SY_ERR_UPSTREAM", `no replica of "${svc.name}" answered`);
  });
}

function rawError(client: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ code, message, issues: [] });
  const reason = status === 404 ? "Not Found" : status === 503 ? "Service Unavailable" : "Bad Gateway";
  const retry = status === 503 ? "Retry-After: 1\r\n" : "";
  client.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}Connection: close\r\n\r\n${body}`,
  );
}
