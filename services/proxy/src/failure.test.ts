import { describe, expect, it } from "vitest";
import { BODY_TIMEOUT, type FailureFacts, judgeFailure } from "./failure.js";

const base: FailureFacts = {
  code: "ECONNRESET",
  phase: "sent",
  clientGone: false,
  method: "GET",
  replayable: true,
  attemptsLeft: true,
  retryNonIdempotent: false,
};

describe("judgeFailure", () => {
  it.each([
    // The client's doing: never blamed on a replica, never retried.
    {
      name: "client gone mid-request",
      f: { clientGone: true },
      want: { blame: "none", retry: false, status: 499 },
    },
    {
      name: "client gone mid-stream",
      f: { clientGone: true, phase: "responding" },
      want: { blame: "none", retry: false, status: 499 },
    },
    {
      name: "body idle too long",
      f: { code: BODY_TIMEOUT, phase: "sending" },
      want: { blame: "none", retry: false, status: 408, code: "SY_ERR_BODY_TIMEOUT" },
    },
    {
      name: "request undici will not send",
      f: { code: "UND_ERR_INVALID_ARG", phase: "unsent" },
      want: { blame: "none", retry: false, status: 400, code: "SY_ERR_BAD_REQUEST" },
    },
    {
      name: "replica refused the body (reset while it streamed)",
      f: { code: "ECONNRESET", phase: "sending", method: "POST", replayable: false },
      want: { blame: "none", retry: false, status: 502, reason: "body_refused:ECONNRESET" },
    },
    {
      name: "replica refused the body (EPIPE)",
      f: { code: "EPIPE", phase: "sending", method: "PUT", replayable: false },
      want: { blame: "none", retry: false, status: 502 },
    },
    // Nothing sent: out at once, any method goes elsewhere.
    {
      name: "connect refused",
      f: { code: "ECONNREFUSED", phase: "unsent" },
      want: { blame: "replica-now", retry: true },
    },
    {
      name: "connect refused, POST",
      f: { code: "ECONNREFUSED", phase: "unsent", method: "POST" },
      want: { blame: "replica-now", retry: true },
    },
    {
      name: "connect timeout",
      f: { code: "UND_ERR_CONNECT_TIMEOUT", phase: "unsent" },
      want: { blame: "replica-now", retry: true, status: 502 },
    },
    {
      name: "connect refused, streamed body",
      f: { code: "ECONNREFUSED", phase: "unsent", replayable: false },
      want: { blame: "replica-now", retry: false },
    },
    {
      name: "connect refused, no attempts left",
      f: { code: "ECONNREFUSED", phase: "unsent", attemptsLeft: false },
      want: { blame: "replica-now", retry: false, status: 502 },
    },
    {
      name: "pool closed while queued",
      f: { code: "UND_ERR_CLOSED", phase: "unsent", method: "POST" },
      want: { blame: "none", retry: true },
    },
    {
      name: "pool destroyed after sending a POST",
      f: { code: "UND_ERR_DESTROYED", phase: "sent", method: "POST" },
      want: { blame: "none", retry: false },
    },
    // Sent: the replica may have acted; counted, and only idempotent methods go again.
    { name: "reset after a GET was sent", f: {}, want: { blame: "replica", retry: true, status: 502 } },
    {
      name: "reset after a POST was sent",
      f: { method: "POST" },
      want: { blame: "replica", retry: false, status: 502, code: "SY_ERR_UPSTREAM" },
    },
    {
      name: "reset after a POST, YARD_PROXY_RETRY_NON_IDEMPOTENT=true",
      f: { method: "POST", retryNonIdempotent: true },
      want: { blame: "replica", retry: true },
    },
    { name: "reset after a PUT was sent", f: { method: "PUT" }, want: { blame: "replica", retry: true } },
    {
      name: "headers timeout",
      f: { code: "UND_ERR_HEADERS_TIMEOUT" },
      want: { blame: "replica", retry: false, status: 504, reason: "headers_timeout" },
    },
    // Response under way: a cut stream is an error, not the status the replica had sent.
    {
      name: "stream cut by a dying replica",
      f: { code: "UND_ERR_SOCKET", phase: "responding" },
      want: { blame: "replica", retry: false, status: 502, reason: "stream_cut:UND_ERR_SOCKET" },
    },
    {
      name: "response body idle too long",
      f: { code: "UND_ERR_BODY_TIMEOUT", phase: "responding" },
      want: { blame: "replica", retry: false, status: 502 },
    },
  ] as { name: string; f: Partial<FailureFacts>; want: Record<string, unknown> }[])(
    "$name",
    ({ f, want }) => {
      expect(judgeFailure({ ...base, ...f })).toMatchObject(want);
    },
  );
});
