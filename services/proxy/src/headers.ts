/**
 * Hop-by-hop header filtering (RFC 9110 §7.6.1). Works on Node's `rawHeaders` form, a flat
 * [name, value, name, value ...] list, so original case, order, repeats and exact values
 * (latin1 strings, byte for byte) survive.
 *
 * Dropped from requests: Connection and every header it names, Keep-Alive, Proxy-Connection,
 * TE, Transfer-Encoding, Upgrade (the WebSocket path keeps Connection/Upgrade itself), plus
 * Host (the replica gets its own host:port; see docs in the report) and Expect (Node already
 * answered `100 Continue`; undici refuses to send it). Proxy-Authorization is NOT dropped: this
 * proxy asks for no proxy credentials, so they are not meant for it and pass through verbatim.
 */
/** Hop-by-hop headers (RFC 9110 §7.6.1): never forwarded in either direction. */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade"];
const REQUEST_DROP = new Set([...HOP_BY_HOP, "host", "expect"]);
const RESPONSE_DROP = new Set(HOP_BY_HOP);

/**
 * Names (lower case) listed in Connection headers (`Connection: close, X-Foo`), or null when
 * there is none or it says just `keep-alive`, as nearly every HTTP/1.1 client does (that name
 * is dropped anyway): the common case costs no allocation.
 */
function connectionTokens(raw: readonly string[], into: Set<string> | null = null): Set<string> | null {
  let tokens = into;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 10 && raw[i].toLowerCase() === "connection") {
      const v = raw[i + 1];
      // The usual case: nothing to add (keep-alive is hop-by-hop already).
      if (v === "keep-alive") continue;
      tokens ??= new Set();
      for (const t of v.split(",")) {
        const x = t.trim().toLowerCase();
        if (x) tokens.add(x);
      }
    }
  }
  return tokens;
}

/** `mayDrop[n]`: some dropped name has n characters; other names pass without lower-casing. */
function lengthsOf(names: Iterable<string>): boolean[] {
  const out: boolean[] = [];
  for (const n of names) out[n.length] = true;
  return out;
}

const REQUEST_DROP_LENGTHS = lengthsOf(REQUEST_DROP);
const RESPONSE_DROP_LENGTHS = lengthsOf(RESPONSE_DROP);

function filter(raw: readonly string[], drop: Set<string>, lengths: boolean[]): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (named !== null || lengths[name.length] === true) {
      const lower = name.toLowerCase();
      if (drop.has(lower) || named?.has(lower)) continue;
    }
    out.push(name, raw[i + 1]);
  }
  return out;
}

export function filterRequestHeaders(raw: readonly string[]): string[] {
  return filter(raw, REQUEST_DROP, REQUEST_DROP_LENGTHS);
}

export function filterResponseHeaders(raw: readonly string[]): string[] {
  return filter(raw, RESPONSE_DROP, RESPONSE_DROP_LENGTHS);
}

/**
 * Response headers straight from undici's raw Buffers (latin1 keeps every byte as it came),
 * hop-by-hop ones dropped, in one pass.
 */
export function responseHeadersFromRaw(raw: readonly Buffer[]): string[] {
  let named: Set<string> | null = null;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString("latin1");
    const value = raw[i + 1].toString("latin1");
    if (RESPONSE_DROP_LENGTHS[name.length] === true) {
      const lower = name.toLowerCase();
      if (RESPONSE_DROP.has(lower)) {
        if (lower === "connection") named = connectionTokens([name, value], named);
        continue;
      }
    }
    out.push(name, value);
  }
  if (named === null) return out;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!named.has(out[i].toLowerCase())) kept.push(out[i], out[i + 1]);
  return kept;
}

/** Does a (flat name, value, …) header list carry a Content-Length? */
export function hasContentLength(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2)
    if (headers[i].length === 14 && headers[i].toLowerCase() === "content-length") return true;
  return false;
}

export interface ForwardedInfo {
  clientIp: string | undefined;
  proto: "http" | "https";
  host: string | undefined;
}

/**
 * With YARD_PROXY_FORWARDED_HEADERS=true: X-Forwarded-For gets the client address appended to
 * what the client sent; X-Forwarded-Proto and X-Forwarded-Host are replaced by this proxy's
 * view (a client cannot spoof them through us).
 */
export function addForwarded(headers: string[], info: ForwardedInfo): string[] {
  const out: string[] = [];
  let xff: string | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i].toLowerCase();
    if (lower === "x-forwarded-for") xff = xff === null ? headers[i + 1] : `${xff}, ${headers[i + 1]}`;
    else if (lower !== "x-forwarded-proto" && lower !== "x-forwarded-host")
      out.push(headers[i], headers[i + 1]);
  }
  const ip = info.clientIp ?? "unknown";
  out.push("x-forwarded-for", xff === null ? ip : `${xff}, ${ip}`, "x-forwarded-proto", info.proto);
  if (info.host !== undefined) out.push("x-forwarded-host", info.host);
  return out;
}
