import { createHash, timingSafeEqual } from "node:crypto";

/** vLLM's 401 body (vllm/entrypoints/openai/server_utils.py AuthenticationMiddleware). */
export const UNAUTHORIZED_BODY = { error: "Unauthorized" } as const;

/** vLLM guards every path under /v1 except OPTIONS (CORS preflight). */
export function isGuarded(method: string, path: string): boolean {
  return method !== "OPTIONS" && (path === "/v1" || path.startsWith("/v1/") || path.startsWith("/v1?"));
}

/**
 * As vLLM: the header is `<scheme> <token>` with the scheme `bearer` in any case and the token
 * equal to the key. Compared as sha256 digests in constant time.
 */
export function isAuthorized(header: string | undefined, key: string): boolean {
  if (!header) return false;
  const space = header.indexOf(" ");
  const scheme = space < 0 ? header : header.slice(0, space);
  const token = space < 0 ? "" : header.slice(space + 1);
  if (scheme.toLowerCase() !== "bearer") return false;
  const a = createHash("sha256").update(token).digest();
  const b = createHash("sha256").update(key).digest();
  return timingSafeEqual(a, b);
}
