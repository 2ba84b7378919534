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
