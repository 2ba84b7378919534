import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Who may call the spec HTTP API. Whoever can publish a spec can run code on the replica hosts
 * (its `run:`), so every request must carry the API's bearer token, and name this server in
 * `Host` (a page that rebinds its own DNS name to 127.0.0.1 sends its own name there). Browsers
 * are not clients of this API: a request with an `Origin` is refused unless that origin is
 * listed. Pure: the HTTP adapter asks it once per request, before any body is read.
 */
export interface GuardConfig {
  token: string;
  /** Lower-case `host` or `host:port` values accepted in the Host header. */
  allowedHosts: ReadonlySet<string>;
  /** Lower-case origins (`http://host:port`) accepted in the Origin header. */
  allowedOrigins: ReadonlySet<string>;
}

export type GuardVerdict =
  | { ok: true }
  | { ok: false; status: 401 | 403; code: "SY_ERR_UNAUTHORIZED" | "SY_ERR_FORBIDDEN"; message: string };

export function checkRequest(
  h: { host?: string; origin?: string; authorization?: string },
  cfg: GuardConfig,
): GuardVerdict {
  const host = (h.host ?? "").toLowerCase();
  if (!cfg.allowedHosts.has(host))
    return deny(
      403,
      "SY_ERR_FORBIDDEN",
      "the Host header does not name this API (see YARD_SPEC_HTTP_ALLOWED_HOSTS)",
    );
  if (h.origin !== undefined && !cfg.allowedOrigins.has(h.origin.toLowerCase()))
    return deny(
      403,
      "SY_ERR_FORBIDDEN",
      "cross-origin requests are refused (see YARD_SPEC_HTTP_ALLOWED_ORIGINS)",
    );
  const m = /^Bearer +(\S+) *$/i.exec(h.authorization ?? "");
  if (!m || !sameSecret(m[1], cfg.token))
    return deny(
      401,
      "SY_ERR_UNAUTHORIZED",
      "a valid bearer token is required (Authorization: Bearer <token>)",
    );
  return { ok: true };
}

/**
 * The Host values a server bound to `bindHost:port` answers to: loopback names when it is bound
 * to loopback or to every address, the bound address itself, and whatever the operator adds
 * (e.g. `spec:7070` in compose).
 */
export function allowedHostsFor(bindHost: string, port: number, extra: string[]): Set<string> {
  const names = new Set([bindHost.toLowerCase()]);
  const loopback = ["127.0.0.1", "localhost", "[::1]", "::1", "0.0.0.0", "::"];
  if (loopback.includes(bindHost)) for (const n of ["127.0.0.1", "localhost", "[::1]"]) names.add(n);
  names.delete("0.0.0.0");
  names.delete("::");
  names.delete("::1");
  const out = new Set<string>();
  for (const n of names) out.add(`${n}:${port}`);
  for (const e of extra) out.add(e.trim().toLowerCase());
  return out;
}

/** Compared as SHA-256 digests: equal lengths for timingSafeEqual, no length leak. */
function sameSecret(given: string, want: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(want));
}

function deny(
  status: 401 | 403,
  code: "SY_ERR_UNAUTHORIZED" | "SY_ERR_FORBIDDEN",
  message: string,
): GuardVerdict {
  return { ok: false, status, code, message };
}
