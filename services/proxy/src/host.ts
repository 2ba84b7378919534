/**
 * Which service a request is for, from its Host header: `<service>.<domain>` (port stripped,
 * case-insensitive). Returns the service name, or null when the Host does not name one (the
 * caller then falls back to YARD_DEFAULT_SERVICE, then to the only service).
 */
export function serviceFromHost(host: string | undefined, domain: string): string | null {
  if (!host) return null;
  let h = host;
  if (h.charCodeAt(0) === 91 /* [ */) return null; // IPv6 literal: never a service name
  const colon = h.lastIndexOf(":");
  if (colon !== -1) h = h.slice(0, colon);
  h = h.toLowerCase();
  if (h.endsWith(".")) h = h.slice(0, -1); // absolute FQDN form `llm.localhost.`
  const suffixLen = domain.length + 1;
  if (h.length <= suffixLen || !h.endsWith(domain) || h.charCodeAt(h.length - suffixLen) !== 46 /* . */)
    return null;
  const label = h.slice(0, h.length - suffixLen);
  return label.includes(".") ? null : label;
}

export type Resolution<S> = { kind: "service"; service: S } | { kind: "unknown"; name: string | null };

/**
 * Host → service entry. A Host that names a service picks it or fails as unknown (no silent
 * fallback to another service); a Host that names none uses the default, else the only one.
 */
export function resolveService<S>(
  host: string | undefined,
  domain: string,
  defaultService: string | undefined,
  lookup: (name: string) => S | undefined,
  only: () => S | undefined,
): Resolution<S> {
  const named = serviceFromHost(host, domain);
  if (named !== null) {
    const s = lookup(named);
    return s ? { kind: "service", service: s } : { kind: "unknown", name: named };
  }
  if (defaultService) {
    const s = lookup(defaultService);
    return s ? { kind: "service", service: s } : { kind: "unknown", name: defaultService };
  }
  const s = only();
  return s ? { kind: "service", service: s } : { kind: "unknown", name: null };
}

export interface Target {
  /** The authority of an absolute-form target (it replaces Host: RFC 9112 §3.2.2); else null. */
  authority: string | null;
  /** What the replica gets: the origin-form path and query (or `*`). */
  path: string;
}

const ABSOLUTE = /^https?:\/\//i;

/**
 * The request target split for routing (RFC 9112 §3.2). Origin-form (`/v1/models?x`) and
 * asterisk-form pass as they are; absolute-form (`http://llm.localhost/v1/models`, what a
 * client configured to use us as an HTTP proxy sends) yields its authority and `/v1/models`.
 * null for anything else (authority-form, a userinfo `@`, an empty authority, garbage).
 */
export function splitTarget(url: string): Target | null {
  if (url.charCodeAt(0) === 47 /* / */ || url === "*") return { authority: null, path: url };
  const scheme = ABSOLUTE.exec(url);
  if (scheme === null) return null;
  const from = scheme[0].length;
  let end = from;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
    end++;
  }
  const authority = url.slice(from, end);
  if (authority === "" || authority.includes("@")) return null;
  const hash = url.indexOf("#", end);
  const rest = url.slice(end, hash === -1 ? url.length : hash);
  return { authority, path: rest.charCodeAt(0) === 47 ? rest : `/${rest}` };
}
