import type { ServerResponse } from "node:http";
import type { ErrorBody, ErrorCode } from "@switchyard/contracts";

/** Answer with a Switchyard ErrorBody (JSON) unless headers already went out. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  extra?: Record<string, string>,
): void {
  if (res.headersSent || res.destroyed) return;
  const body: ErrorBody = { code, message, issues: [] };
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...extra,
  });
  res.end(text);
}

/** Errors that mean "this replica did not take the request": retry elsewhere, eject it. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);
/** The pool went away under us (replica removed while queued): retry, but it was not at fault. */
const POOL_GONE_CODES = new Set(["UND_ERR_CLOSED", "UND_ERR_DESTROYED"]);

export type UpstreamFailure = "connection" | "pool_gone" | "headers_timeout" | "other";

export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const code = (err as { code?: string } | null)?.code;
  if (code && CONNECTION_CODES.has(code)) return "connection";
  if (code && POOL_GONE_CODES.has(code)) return "pool_gone";
  if (code === "UND_ERR_HEADERS_TIMEOUT") return "headers_timeout";
  return "other";
}
