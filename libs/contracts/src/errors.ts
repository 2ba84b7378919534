// @pure: no I/O (tools/lint-boundaries checks it)
import { z } from "zod";

/**
 * Stable error codes. Callers match on `code`, never on message text. docs/errors.md lists
 * each one; a test keeps the two in step.
 */
export const ErrorCode = z.enum([
  "SY_ERR_SPEC_YAML", // the YAML does not parse (message has line and column)
  "SY_ERR_SPEC_INVALID", // schema or cross-field rule broken (issues name each path)
  "SY_ERR_ENV_NULL", // an env var has no value: give it with --env or --env-file
  "SY_ERR_BAD_REQUEST", // a request to an API does not match its schema
  "SY_ERR_NOT_FOUND", // no such service
  "SY_ERR_BUS_UNREACHABLE", // NATS cannot be reached
  "SY_ERR_NO_RESPONDER", // NATS answers but the service behind a subject is not running
  "SY_ERR_TIMEOUT", // a request or wait ran out of time
  "SY_ERR_INTERNAL", // a bug: please report it
  "SY_ERR_NO_READY_REPLICA", // proxy: the service has no ready replica now
  "SY_ERR_UNKNOWN_SERVICE", // proxy: no service matches the request's Host
  "SY_ERR_UPSTREAM", // proxy: every attempt to reach a replica failed
  "SY_ERR_BODY_TIMEOUT", // proxy: the client sent no request-body byte for YARD_PROXY_BODY_TIMEOUT_MS
  "SY_ERR_CONFIG", // an env var of a service is invalid
  "SY_ERR_UNAUTHORIZED", // an API request without a valid bearer token
  "SY_ERR_FORBIDDEN", // an API request from a caller or origin that may not make it
  "SY_ERR_TOO_LARGE", // an apply request or its record is over the NATS server's max_payload
  "SY_ERR_CONFLICT", // the request does not fit the state: a replica already stopping, a failed one without --purge
  "SY_ERR_NOT_LEADER", // this instance lost its lease (a standby took over) before it could write: try again
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const Issue = z.object({ path: z.string(), message: z.string() });
export type Issue = z.infer<typeof Issue>;

export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  issues: z.array(Issue).default([]),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** An error with a stable code, and for validation errors every issue with its path. */
export class YardError extends Error {
  readonly code: ErrorCode;
  readonly issues: Issue[];
  constructor(code: ErrorCode, message: string, issues: Issue[] = [], options?: ErrorOptions) {
    super(message, options);
    this.name = "YardError";
    this.code = code;
    this.issues = issues;
  }
  toBody(): ErrorBody {
    return { code: this.code, message: this.message, issues: this.issues };
  }
  static fromBody(b: ErrorBody): YardError {
    return new YardError(b.code, b.message, b.issues);
  }
}

/** "message" plus one line per issue: `  - path: message`. */
export function formatError(e: { message: string; issues?: Issue[] }): string {
  const lines = [e.message];
  for (const i of e.issues ?? []) lines.push(`  - ${i.path || "(root)"}: ${i.message}`);
  return lines.join("\n");
}
