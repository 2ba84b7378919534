import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex, Readable } from "node:stream";
import type { ErrorCode } from "@switchyard/contracts";
import type { Dispatcher, Pool } from "undici";
import { BodyTimer } from "./body-timeout.js";
import { sendError } from "./errors.js";
import { type Blame, BODY_TIMEOUT, judgeFailure, type Phase } from "./failure.js";
import { addForwarded, filterRequestHeaders, hasContentLength, responseHeadersFromRaw } from "./headers.js";
import type { Hold, HoldEnd } from "./hold.js";
import { resolveService, splitTarget } from "./host.js";
import { Lease } from "./lease.js";
import type { ProxyMetrics } from "./metrics.js";
import { Outlier } from "./outlier.js";
import type { Replica, RouteTable, ServiceEntry } from "./route-table.js";
import { relayBody } from "./streamed-body.js";

export interface AccessEntry {
  method: string;
  path: string;
  service: string;
  status: number;
  ms: number;
  replica: string | null;
  attempts: number;
  error?: string;
  /** The status the replica had sent when its response was cut (status then says 502). */
  upstream_status?: number;
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
  /** Longest wait for the next byte of a request body being read (0 = none): then 408. */
  bodyTimeoutMs: number;
  /** Consecutive failures a replica is blamed for before it is ejected. */
  ejectAfter: number;
  /** At most this share of a service's replicas ejected at once (at least one may be). */
  ejectMaxShare: number;
  /** Retry POST/PATCH after their bytes reached a replica (RFC 9110 §9.2.2 says: do not). */
  retryNonIdempotent: boolean;
  /** Requests held per service at zero replicas (scale-from-zero); 0 = answer 503 at once. */
  holdMax: number;
  /** How long a held request waits for the service's first replica (the Hold's timer). */
  holdTimeoutMs: number;
}

export interface ForwardDeps {
  table: RouteTable<Pool>;
  opts: ForwardOptions;
  metrics: ProxyMetrics;
  accessLog: AccessLog;
  /** Take a replica out of rotation and hint the prober (the outlier check already passed). */
  eject: (r: Replica<Pool>) => void;
  draining: () => boolean;
  /** Requests between arrival and their access-log line (what a drain waits for). */
  active: { count: number; onIdle: (() => void) | null };
  /** Counts each request once, when its service is known, before any attempt (load reports). */
  load: { request(service: string): void };
  /** Where requests for a service that idles at zero replicas wait for its first one. */
  hold: Hold;
}

/** Where an Upgrade request's `101` goes; any other answer is an HTTP response on `res`. */
export interface TunnelSink {
  /** The protocol the client asked for (its Upgrade header). */
  protocol: string;
  /** The replica switched: splice both connections; `closed` once when the tunnel ends. */
  open(rawHeaders: Buffer[], upstream: Duplex, closed: (error?: string) => void): void;
}

/** The data plane's one attempt pipeline: resolve, pick, lease, dispatch, retry or eject, log. */
export interface Forwarder {
  /** A plain HTTP request, straight from Node's HTTP server. */
  (req: IncomingMessage, res: ServerResponse): void;
  /** An Upgrade request: tunnelled only if the replica answers 101, else relayed on `res`. */
  upgrade(req: IncomingMessage, res: ServerResponse, tunnel: TunnelSink): void;
  readonly opts: ForwardOptions;
}

export const UNKNOWN_SERVICE_LABEL = "-";
const CLIENT_GONE = 499;

export function createForwarder(deps: ForwardDeps): Forwarder {
  const { table, opts } = deps;
  const lookup = (n: string) => table.get(n);
  const only = () => table.only();
  const outlier = new Outlier<Replica<Pool>>({ ejectAfter: opts.ejectAfter, maxShare: opts.ejectMaxShare });
  const handle = (req: IncomingMessage, res: ServerResponse, tunnel: TunnelSink | null): void => {
    const start = performance.now();
    deps.active.count++;
    res.sendDate = false; // the replica's Date (or none) passes through
    if (deps.draining()) res.shouldKeepAlive = false;
    const url = req.url ?? "/";
    // Origin-form (`/…`) goes as it came: nothing to split on the hot path.
    const originForm = url.charCodeAt(0) === 47;
    const target = originForm ? null : splitTarget(url);
    if (!originForm && target === null) {
      const why = "the request target is neither a path nor an http:// URL";
      refuse(deps, req, res, url, start, UNKNOWN_SERVICE_LABEL, 400, "SY_ERR_BAD_REQUEST", why, "bad_target");
      return;
    }
    // Absolute-form: the target's authority names the service, not Host (RFC 9112 §3.2.2).
    const host = target?.authority ?? req.headers.host;
    const found = resolveService(host, opts.domain, opts.defaultService, lookup, only);
    if (found.kind === "unknown") {
      const what = found.name ? `no service named "${found.name}"` : "no service matches this Host";
      const why = `${what}; use Host: <service>.${opts.domain}`;
      refuse(deps, req, res, url, start, UNKNOWN_SERVICE_LABEL, 404, "SY_ERR_UNKNOWN_SERVICE", why);
      return;
    }
    const svc = found.service;
    deps.load.request(svc.name);
    if (tunnel !== null && !emptyBody(req)) {
      // Node hands an Upgrade request over without its body: there is nothing to forward.
      res.shouldKeepAlive = false;
      const why = "an Upgrade request cannot carry a body here";
      refuse(deps, req, res, url, start, svc.name, 400, "SY_ERR_BAD_REQUEST", why, "upgrade_with_body");
      return;
    }
    const a: Arrival = { req, res, host, path: target?.path ?? url, url, start, tunnel };
    if (svc.replicas.length > 0) {
      proceed(deps, outlier, a, svc);
      return;
    }
    if (svc.scalesToZero && opts.holdMax > 0 && !deps.draining()) {
      hold(deps, outlier, a, svc.name);
      return;
    }
    const why = `service "${svc.name}" has no ready replica`;
    refuse(deps, req, res, url, start, svc.name, 503, "SY_ERR_NO_READY_REPLICA", why, undefined, RETRY_AFTER);
  };
  return Object.assign((req: IncomingMessage, res: ServerResponse) => handle(req, res, null), {
    upgrade: handle,
    opts,
  });
}

const RETRY_AFTER = { "retry-after": "1" };

function emptyBody(req: IncomingMessage): boolean {
  const len = req.headers["content-length"];
  return (len === undefined || len === "0") && req.headers["transfer-encoding"] === undefined;
}

/** A request whose service is known, as it goes on to an attempt or into the hold. */
interface Arrival {
  req: IncomingMessage;
  res: ServerResponse;
  /** The authority that named the service (Host, or an absolute-form target's). */
  host: string | undefined;
  /** The target in origin-form, as the replica gets it. */
  path: string;
  /** The target as the client sent it (logged without its query). */
  url: string;
  start: number;
  tunnel: TunnelSink | null;
}

/** Into the attempt pipeline: the service has a replica (or had one when the request was let go). */
function proceed(
  deps: ForwardDeps,
  outlier: Outlier<Replica<Pool>>,
  a: Arrival,
  svc: ServiceEntry<Pool>,
): void {
  const { req, res, host, path, url, start, tunnel } = a;
  const opts = deps.opts;
  let headers = filterRequestHeaders(req.rawHeaders);
  if (opts.forwardedHeaders)
    headers = addForwarded(headers, {
      clientIp: req.socket.remoteAddress,
      proto: (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http",
      host,
    });
  const ex = new Exchange(deps, outlier, req, res, svc, headers, path, url, start, tunnel);
  const len = req.headers["content-length"];
  if (emptyBody(req)) {
    ex.body = null;
    ex.dispatch();
  } else if (req.headers["transfer-encoding"] === undefined && Number(len) <= opts.replayMaxBytes) {
    ex.bufferBody();
  } else {
    // Large or unknown-length bodies stream through undici with back-pressure; no replay.
    ex.streamBody();
  }
}

/**
 * Scale-from-zero: the service idles at zero replicas; the request waits (body unread) for the
 * first one to be routed, then takes the normal pipeline. A full line, the timeout and a
 * shutdown answer 503 with Retry-After; a removed service 404; a client that leaves is dropped.
 */
function hold(deps: ForwardDeps, outlier: Outlier<Replica<Pool>>, a: Arrival, service: string): void {
  const { req, res, url, start } = a;
  const gone = () => done(deps, req.method, url, service, CLIENT_GONE, start, null, 0, "client_gone");
  const unready = (message: string, reason: string) =>
    refuse(deps, req, res, url, start, service, 503, "SY_ERR_NO_READY_REPLICA", message, reason, RETRY_AFTER);
  const end = (why: HoldEnd): void => {
    if (why === "removed") {
      const what = `service "${service}" was removed while the request waited`;
      refuse(deps, req, res, url, start, service, 404, "SY_ERR_UNKNOWN_SERVICE", what, "hold_removed");
    } else if (why === "shutdown") {
      res.shouldKeepAlive = false;
      unready(`the proxy is shutting down; service "${service}" has no ready replica yet`, "hold_shutdown");
    } else {
      unready(
        `service "${service}" had no ready replica within ${deps.opts.holdTimeoutMs} ms`,
        "hold_timeout",
      );
    }
  };
  const parked = deps.hold.park(service, res, {
    go() {
      // Left without a 'close' we could see (its socket was not being read): nothing to send.
      if (req.socket.destroyed) return gone();
      const svc = deps.table.get(service);
      if (svc) proceed(deps, outlier, a, svc);
      else end("removed");
    },
    end,
    gone,
  });
  if (!parked)
    unready(
      `service "${service}" is starting and ${deps.opts.holdMax} requests already wait for it`,
      "hold_full",
    );
}

/** An answer of ours before any attempt: the request never reached a replica. */
function refuse(
  deps: ForwardDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
  start: number,
  service: string,
  status: number,
  code: ErrorCode,
  message: string,
  error?: string,
  extra?: Record<string, string>,
): void {
  sendError(res, status, code, message, extra);
  done(deps, req.method, url, service, status, start, null, 0, error);
}

function done(
  deps: ForwardDeps,
  method: string | undefined,
  url: string,
  service: string,
  status: number,
  start: number,
  replica: string | null,
  attempts: number,
  error?: string,
  upstreamStatus?: number,
): void {
  const ms = performance.now() - start;
  if (--deps.active.count === 0 && deps.active.onIdle) deps.active.onIdle();
  deps.metrics.request(service, status, ms / 1000);
  if (!deps.accessLog.wants(status, error)) return;
  const q = url.indexOf("?");
  const e: AccessEntry = {
    method: method ?? "GET",
    path: q === -1 ? url : url.slice(0, q), // query strings may carry secrets
    service,
    status,
    ms: Math.round(ms * 1000) / 1000,
    replica,
    attempts,
    error,
  };
  if (upstreamStatus !== undefined) e.upstream_status = upstreamStatus;
  deps.accessLog.write(e);
}

class BodyTimeoutError extends Error {
  readonly code = BODY_TIMEOUT;
  constructor(ms: number) {
    super(`no request body byte for ${ms} ms`);
  }
}

/**
 * One client request and its attempts; it is also the undici dispatch handler (legacy
 * callback API: raw header buffers, no per-response header parsing).
 */
class Exchange implements Dispatcher.DispatchHandler {
  body: Buffer | Readable | null = null;
  private replayable = true;
  private clientGone = false;
  private lease: Lease<Replica<Pool>> | null = null;
  private tried: Replica<Pool>[] | null = null;
  private attempts = 0;
  private abortFn: ((err?: Error) => void) | null = null;
  private resumeFn: (() => void) | null = null;
  private status = 0;
  private phase: Phase = "unsent";
  private finished = false;
  private timer: BodyTimer | null = null;
  /** The client's connection: undici detaches a streamed body from it when it is done. */
  private readonly socket: Socket;

  constructor(
    private readonly deps: ForwardDeps,
    private readonly outlier: Outlier<Replica<Pool>>,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly svc: ServiceEntry<Pool>,
    private readonly headers: string[],
    private readonly path: string,
    private readonly url: string,
    private readonly start: number,
    private readonly tunnel: TunnelSink | null,
  ) {
    this.socket = req.socket;
    res.once("close", () => {
      if (this.finished) return;
      this.clientGone = true;
      this.timer?.stop();
      if (this.abortFn) this.abortFn(new Error("client closed the connection"));
      else if (!this.lease) this.finish(CLIENT_GONE, "client_gone"); // still buffering the body
    });
  }

  /** Large or unknown-length bodies stream to one replica; there is no replay. */
  streamBody(): void {
    const timer = this.watchBody();
    this.body = relayBody(this.req, () => timer?.touch());
    this.replayable = false;
    this.dispatch();
  }

  /** Small bodies are read whole first, so that a retry can send them again. */
  bufferBody(): void {
    const chunks: Buffer[] = [];
    const req = this.req;
    if (req.complete) {
      // The whole body is here already (it came with the head, or arrived while the request was
      // held): take it now, so that the request goes out in its turn, not a tick later.
      for (let c: Buffer | null = req.read(); c !== null; c = req.read()) chunks.push(c);
      this.body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      this.dispatch();
      return;
    }
    const timer = this.watchBody();
    req.on("data", (c: Buffer) => {
      timer?.touch();
      chunks.push(c);
    });
    req.once("end", () => {
      timer?.stop();
      this.body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      if (!this.clientGone && !this.finished) this.dispatch();
    });
  }

  dispatch(): void {
    const svc = this.svc;
    const r = svc.policy.pick(svc.replicas, svc.state, Date.now(), this.tried);
    if (r === null) {
      if (this.attempts === 0)
        this.fail(
          503,
          "SY_ERR_NO_READY_REPLICA",
          `service "${svc.name}" has no ready replica`,
          undefined,
          RETRY_AFTER,
        );
      else this.fail(502, "SY_ERR_UPSTREAM", `every replica of "${svc.name}" failed`, "exhausted");
      return;
    }
    this.lease = new Lease(r);
    this.attempts++;
    this.abortFn = null;
    this.phase = "unsent";
    const o = this.deps.opts;
    r.upstream.dispatch(
      {
        method: this.req.method as Dispatcher.HttpMethod,
        path: this.path,
        headers: this.headers,
        body: this.body,
        headersTimeout: o.headersTimeoutMs,
        bodyTimeout: o.idleTimeoutMs,
        upgrade: this.tunnel?.protocol ?? null,
      },
      this,
    );
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.clientGone || this.finished) {
      abort(new Error("the request is over"));
      return;
    }
    this.phase = "sending"; // the head goes out right after this call
  }

  onRequestSent(): void {
    if (this.phase === "sending") this.phase = "sent";
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    if (status < 200) return true; // 1xx: Node answered 100-continue itself; 103 is dropped
    // Also when the replica answered before reading the whole body (a 413, a 401): the client
    // gets that answer, and the relay drops the rest of the body (streamed-body.ts).
    this.outlier.success(this.lease!.replica);
    this.phase = "responding";
    this.status = status;
    this.resumeFn = resume;
    const res = this.res;
    const headers = responseHeadersFromRaw(raw);
    if (this.deps.draining()) res.shouldKeepAlive = false;
    // Nothing set a header on `res` before (a drain says close by shouldKeepAlive): the flat
    // list goes out as it is, repeated names included.
    res.writeHead(status, statusText, headers);
    // A response without a length is a stream (SSE, chunked): its client gets the headers now,
    // as from the replica, not with the first token (a queued LLM stream may wait seconds).
    if (!hasContentLength(headers)) res.flushHeaders();
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

  onUpgrade(status: number, raw: Buffer[] | string[] | null, upstream: Duplex): void {
    const r = this.lease!.replica;
    this.outlier.success(r);
    this.phase = "responding";
    this.status = status;
    if (this.clientGone || this.tunnel === null) {
      upstream.destroy();
      this.lease?.release();
      this.finish(CLIENT_GONE, "client_gone");
      return;
    }
    this.tunnel.open((raw ?? []) as Buffer[], upstream, (error) => {
      this.lease?.release();
      this.finish(status, error);
    });
  }

  onError(err: Error): void {
    const r = this.lease?.replica ?? null;
    this.lease?.release();
    if (this.finished) return;
    const code = (err as { code?: string }).code;
    const v = judgeFailure({
      code,
      phase: this.phase,
      // undici detached a streamed body from the socket: ask the socket itself.
      clientGone: this.clientGone || this.socket.destroyed,
      method: this.req.method ?? "GET",
      replayable: this.replayable,
      attemptsLeft: this.attempts <= this.deps.opts.retries,
      retryNonIdempotent: this.deps.opts.retryNonIdempotent,
    });
    if (r) this.blame(r, v.blame);
    if (v.retry && r) {
      if (this.tried === null) this.tried = [];
      this.tried.push(r);
      this.deps.metrics.retry(this.svc.name);
      this.dispatch();
      return;
    }
    if (this.phase === "responding") {
      // Headers went out: cut the client's response so it sees a truncated body, not a clean end.
      this.res.destroy(err);
      this.finish(v.status === CLIENT_GONE ? CLIENT_GONE : v.status, v.reason, this.status);
      return;
    }
    if (v.status === CLIENT_GONE) {
      this.finish(CLIENT_GONE, v.reason);
      return;
    }
    const what = v.status === 408 ? err.message : `replica of "${this.svc.name}" failed: ${v.reason}`;
    this.fail(v.status, v.code, what, v.reason);
  }

  private blame(r: Replica<Pool>, blame: Blame): void {
    if (blame === "none") return;
    if (this.outlier.failure(r, blame === "replica-now", this.svc.replicas, Date.now())) this.deps.eject(r);
  }

  /** Start the body's idle watch (if configured): on expiry the attempt ends with 408. */
  private watchBody(): BodyTimer | null {
    const ms = this.deps.opts.bodyTimeoutMs;
    if (ms <= 0) return null;
    const timer = new BodyTimer(this.req, ms, () => {
      if (this.clientGone) return;
      // Answered already, and the rest of the body that is being dropped stalls: hang up.
      if (this.finished) {
        this.socket.destroy();
        return;
      }
      const err = new BodyTimeoutError(ms);
      if (this.abortFn) this.abortFn(err);
      else this.fail(408, "SY_ERR_BODY_TIMEOUT", err.message, "body_timeout"); // not on the wire yet
    });
    this.req.once("end", () => timer.stop());
    this.timer = timer;
    return timer;
  }

  /** Answer with an error of ours. */
  private fail(
    status: number,
    code: ErrorCode,
    message: string,
    reason?: string,
    extra?: Record<string, string>,
  ): void {
    // A body that stalled is not going to be read to its end: the connection cannot go on.
    if (status === 408) this.res.shouldKeepAlive = false;
    sendError(this.res, status, code, message, extra);
    this.finish(status, reason);
  }

  private finish(status: number, error?: string, upstreamStatus?: number): void {
    if (this.finished) return;
    this.finished = true;
    // A streamed body undici did not read to its end: the relay drops the rest (its idle watch
    // stays on for that); a body already read has no watch left to stop.
    if (this.body !== null && !this.replayable) (this.body as Readable).destroy();
    else this.timer?.stop();
    const replica = this.lease?.replica.key ?? null;
    done(
      this.deps,
      this.req.method,
      this.url,
      this.svc.name,
      status,
      this.start,
      replica,
      this.attempts,
      error,
      upstreamStatus,
    );
  }
}
