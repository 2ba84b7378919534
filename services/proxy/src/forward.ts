import type { IncomingMessage, ServerResponse } from "node:http";
import type { Dispatcher, Pool } from "undici";
import { classifyUpstreamError, sendError } from "./errors.js";
import { addForwarded, filterRequestHeaders, responseHeadersFromRaw } from "./headers.js";
import { resolveService } from "./host.js";
import { Lease } from "./lease.js";
import type { ProxyMetrics } from "./metrics.js";
import type { Replica, RouteTable, ServiceEntry } from "./route-table.js";

export interface AccessEntry {
  method: string;
  path: string;
  service: string;
  status: number;
  ms: number;
  replica: string | null;
  attempts: number;
  error?: string;
}

/** Where access lines go; `wants` is asked first so unlogged requests build no entry. */
export interface AccessLog {
  wants(status: number, error: string | undefined): boolean;
  write(e: AccessEntry): void;
}

export interface ForwardOptions {
  domain: string;
  defaultService: string | undefined;
  retries: number;
  replayMaxBytes: number;
  forwardedHeaders: boolean;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
}

export interface ForwardDeps {
  table: RouteTable<Pool>;
  opts: ForwardOptions;
  metrics: ProxyMetrics;
  accessLog: AccessLog;
  /** A replica refused or reset a connection: take it out of rotation, hint the prober. */
  eject: (r: Replica<Pool>) => void;
  draining: () => boolean;
  /** Requests between arrival and their access-log line (what a drain waits for). */
  active: { count: number; onIdle: (() => void) | null };
}

export const UNKNOWN_SERVICE_LABEL = "-";
const CLIENT_GONE = 499;

/** The data-plane request handler: (req, res) straight from Node's HTTP server. */
export function createForwarder(deps: ForwardDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { table, opts } = deps;
  const lookup = (n: string) => table.get(n);
  const only = () => table.only();
  return (req, res) => {
    const start = performance.now();
    deps.active.count++;
    res.sendDate = false; // the replica's Date (or none) passes through
    if (deps.draining()) res.shouldKeepAlive = false;
    const found = resolveService(req.headers.host, opts.domain, opts.defaultService, lookup, only);
    if (found.kind === "unknown") {
      const what = found.name ? `no service named "${found.name}"` : "no service matches this Host";
      sendError(res, 404, "SY_ERR_UNKNOWN_SERVICE", `${what}; use Host: <service>.${opts.domain}`);
      return done(deps, req, UNKNOWN_SERVICE_LABEL, 404, start, null, 0);
    }
    const svc = found.service;
    if (svc.replicas.length === 0) return noReplica(deps, req, res, svc, start, 0);
    let headers = filterRequestHeaders(req.rawHeaders);
    if (opts.forwardedHeaders)
      headers = addForwarded(headers, {
        clientIp: req.socket.remoteAddress,
        proto: "http",
        host: req.headers.host,
      });
    const ex = new Exchange(deps, req, res, svc, headers, start);
    const len = req.headers["content-length"];
    const chunked = req.headers["transfer-encoding"] !== undefined;
    if ((len === undefined || len === "0") && !chunked) {
      ex.body = null;
      ex.dispatch();
    } else if (!chunked && Number(len) <= opts.replayMaxBytes) {
      bufferBody(req, ex);
    } else {
      // Large or unknown-length bodies stream through undici with back-pressure; no replay.
      ex.body = req;
      ex.replayable = false;
      ex.dispatch();
    }
  };
}

function bufferBody(req: IncomingMessage, ex: Exchange): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.once("end", () => {
    ex.body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    if (!ex.clientGone) ex.dispatch();
  });
}

function noReplica(
  deps: ForwardDeps,
  req: IncomingMessage,
  res: ServerResponse,
  svc: ServiceEntry<Pool>,
  start: number,
  attempts: number,
): void {
  sendError(res, 503, "SY_ERR_NO_READY_REPLICA", `service "${svc.name}" has no ready replica`, {
    "retry-after": "1",
  });
  done(deps, req, svc.name, 503, start, null, attempts);
}

function done(
  deps: ForwardDeps,
  req: IncomingMessage,
  service: string,
  status: number,
  start: number,
  replica: string | null,
  attempts: number,
  error?: string,
): void {
  const ms = performance.now() - start;
  if (--deps.active.count === 0 && deps.active.onIdle) deps.active.onIdle();
  deps.metrics.request(service, status, ms / 1000);
  if (!deps.accessLog.wants(status, error)) return;
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  deps.accessLog.write({
    method: req.method ?? "GET",
    path: q === -1 ? url : url.slice(0, q), // query strings may carry secrets
    service,
    status,
    ms: Math.round(ms * 1000) / 1000,
    replica,
    attempts,
    error,
  });
}

/**
 * One client request and its attempts; it is also the undici dispatch handler (legacy
 * callback API: raw header buffers, no per-response header parsing).
 */
class Exchange implements Dispatcher.DispatchHandler {
  body: Buffer | IncomingMessage | null = null;
  replayable = true;
  clientGone = false;
  private lease: Lease<Replica<Pool>> | null = null;
  private tried: Replica<Pool>[] | null = null;
  private attempts = 0;
  private abortFn: ((err?: Error) => void) | null = null;
  private resumeFn: (() => void) | null = null;
  private status = 0;
  private finished = false;

  constructor(
    private readonly deps: ForwardDeps,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly svc: ServiceEntry<Pool>,
    private readonly headers: string[],
    private readonly start: number,
  ) {
    res.once("close", () => {
      if (this.finished) return;
      this.clientGone = true;
      if (this.abortFn) this.abortFn(new Error("client closed the connection"));
      else if (!this.lease) this.finish(CLIENT_GONE); // still buffering the body
    });
  }

  dispatch(): void {
    const r = this.svc.policy.pick(this.svc.replicas, this.svc.state, Date.now(), this.tried);
    if (r === null) {
      this.finished = true;
      if (this.attempts === 0) noReplica(this.deps, this.req, this.res, this.svc, this.start, 0);
      else {
        sendError(this.res, 502, "SY_ERR_UPSTREAM", `every replica of "${this.svc.name}" failed`);
        done(this.deps, this.req, this.svc.name, 502, this.start, null, this.attempts, "exhausted");
      }
      return;
    }
    this.lease = new Lease(r);
    this.attempts++;
    this.abortFn = null;
    const o = this.deps.opts;
    r.upstream.dispatch(
      {
        method: this.req.method as Dispatcher.HttpMethod,
        path: this.req.url ?? "/",
        headers: this.headers,
        body: this.body,
        headersTimeout: o.headersTimeoutMs,
        bodyTimeout: o.idleTimeoutMs,
      },
      this,
    );
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.clientGone) abort(new Error("client closed the connection"));
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    if (status < 200) return true; // 1xx: Node answered 100-continue itself; 103 is dropped
    this.status = status;
    this.resumeFn = resume;
    const res = this.res;
    const headers = responseHeadersFromRaw(raw);
    if (this.deps.draining()) res.shouldKeepAlive = false;
    if (res.getHeaderNames().length === 0) res.writeHead(status, statusText, headers);
    else {
      // Someone (fastify while closing: `Connection: close`) set a header already; writeHead
      // would then setHeader() each pair and keep only the last of repeated names.
      for (let i = 0; i < headers.length; i += 2) res.appendHeader(headers[i], headers[i + 1]);
      res.writeHead(status, statusText);
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    const ok = this.res.write(chunk);
    if (!ok) this.res.once("drain", this.resumeFn!);
    return ok;
  }

  onComplete(): void {
    this.lease?.release();
    this.res.end();
    this.finish(this.status);
  }

  onError(err: Error): void {
    const r = this.lease?.replica ?? null;
    this.lease?.release();
    if (this.finished) return;
    if (this.clientGone) {
      this.finish(CLIENT_GONE, "client aborted");
      return;
    }
    if (this.status !== 0) {
      // Headers went out: cut the client's response so it sees a truncated body, not a clean end.
      this.res.destroy(err);
      this.finish(this.status, errorName(err));
      return;
    }
    const kind = classifyUpstreamError(err);
    if (r && (kind === "connection" || kind === "pool_gone")) {
      if (kind === "connection") this.deps.eject(r);
      if (this.replayable && this.attempts <= this.deps.opts.retries) {
        if (this.tried === null) this.tried = [];
        this.tried.push(r);
        this.deps.metrics.retry(this.svc.name);
        this.dispatch();
        return;
      }
    }
    const status = kind === "headers_timeout" ? 504 : 502;
    sendError(this.res, status, "SY_ERR_UPSTREAM", `replica of "${this.svc.name}" failed: ${errorName(err)}`);
    this.finish(status, errorName(err));
  }

  private finish(status: number, error?: string): void {
    if (this.finished) return;
    this.finished = true;
    const replica = this.lease?.replica.key ?? null;
    done(this.deps, this.req, this.svc.name, status, this.start, replica, this.attempts, error);
  }
}

function errorName(err: Error): string {
  return (err as { code?: string }).code ?? err.name;
}
