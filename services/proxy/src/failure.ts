import type { ErrorCode } from "@switchyard/contracts";

/**
 * How far an attempt got when it failed:
 * - `unsent`: no byte of the request reached the replica's connection (connect refused, reset
 *   or timed out; the pool went away while the request was queued);
 * - `sending`: the head went out and the body is still streaming;
 * - `sent`: the whole request was written, no response yet;
 * - `responding`: the response head already went to the client.
 */
export type Phase = "unsent" | "sending" | "sent" | "responding";

export interface FailureFacts {
  /** The error's `code` (undici's UND_ERR_*, a socket's E*, or SY_BODY_TIMEOUT). */
  code: string | undefined;
  phase: Phase;
  /** The client's connection is gone (it aborted, reset, or sent a broken body). */
  clientGone: boolean;
  method: string;
  /** The body can be sent again (none, or buffered). */
  replayable: boolean;
  /** Attempts left under YARD_PROXY_RETRIES. */
  attemptsLeft: boolean;
  /** YARD_PROXY_RETRY_NON_IDEMPOTENT. */
  retryNonIdempotent: boolean;
}

/**
 * Whose fault: `none` (the client's doing, or nobody's: never counts against a replica),
 * `replica` (counts toward YARD_PROXY_EJECT_AFTER consecutive failures), `replica-now` (the
 * replica took no byte: out of rotation at once, as Envoy does on a connect failure).
 */
export type Blame = "none" | "replica" | "replica-now";

export interface Verdict {
  blame: Blame;
  retry: boolean;
  /** What the client gets if nothing was sent yet, and what metrics and the access log say. */
  status: number;
  code: ErrorCode;
  /** Short reason for the access log and the error message. */
  reason: string;
}

/** Our own error code when the request body went idle (nginx's client_body_timeout). */
export const BODY_TIMEOUT = "SY_BODY_TIMEOUT";

/** Errors undici raises for a request it will not send as given: the client's request is at fault. */
const INVALID_REQUEST = new Set([
  "UND_ERR_INVALID_ARG",
  "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH",
  "UND_ERR_NOT_SUPPORTED",
]);
/** The pool was closed under a queued request (its replica left the table): nobody's fault. */
const POOL_GONE = new Set(["UND_ERR_CLOSED", "UND_ERR_DESTROYED"]);
/** RFC 9110 §9.2.2. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/**
 * What one failed attempt means: who is blamed, whether another replica is tried, what the
 * client is told. Pure: the forwarder gathers the facts, this decides.
 */
export function judgeFailure(f: FailureFacts): Verdict {
  const code = f.code ?? "error";
  if (f.clientGone)
    return { blame: "none", retry: false, status: 499, code: "SY_ERR_UPSTREAM", reason: "client_gone" };
  if (code === BODY_TIMEOUT)
    return { blame: "none", retry: false, status: 408, code: "SY_ERR_BODY_TIMEOUT", reason: "body_timeout" };
  if (INVALID_REQUEST.has(code))
    return {
      blame: "none",
      retry: false,
      status: 400,
      code: "SY_ERR_BAD_REQUEST",
      reason: "invalid_request",
    };
  // A response was under way: the stream is cut. The client sees a truncated body; metrics and
  // the access log say 502, not the status the replica had sent.
  if (f.phase === "responding")
    return {
      blame: "replica",
      retry: false,
      status: 502,
      code: "SY_ERR_UPSTREAM",
      reason: `stream_cut:${code}`,
    };
  const replay = f.replayable && f.attemptsLeft;
  // Nothing was sent: any method may go elsewhere.
  if (POOL_GONE.has(code))
    return {
      blame: "none",
      retry: replay && (f.phase === "unsent" || mayResend(f)),
      status: 502,
      code: "SY_ERR_UPSTREAM",
      reason: code,
    };
  if (f.phase === "unsent")
    return { blame: "replica-now", retry: replay, status: 502, code: "SY_ERR_UPSTREAM", reason: code };
  // The replica hung up while the body was still coming in: it refused the body (a 413 whose
  // response was lost with the reset, a size limit). The client's request, not the replica.
  if (f.phase === "sending")
    return {
      blame: "none",
      retry: false,
      status: 502,
      code: "SY_ERR_UPSTREAM",
      reason: `body_refused:${code}`,
    };
  if (code === "UND_ERR_HEADERS_TIMEOUT")
    return {
      blame: "replica",
      retry: false,
      status: 504,
      code: "SY_ERR_UPSTREAM",
      reason: "headers_timeout",
    };
  return {
    blame: "replica",
    retry: replay && mayResend(f),
    status: 502,
    code: "SY_ERR_UPSTREAM",
    reason: code,
  };
}

/** The replica may have acted on the request already: only idempotent methods go again. */
function mayResend(f: FailureFacts): boolean {
  return f.retryNonIdempotent || IDEMPOTENT.has(f.method);
}
