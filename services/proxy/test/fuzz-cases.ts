/**
 * Adversarial HTTP/1.1 for the data-plane fuzz suite: a seeded generator, so a failing seed
 * replays exactly (YARD_FUZZ_SEED). Each case is the bytes a hostile client writes, in pieces,
 * with pauses, and how it leaves: FIN, RST, or waiting for the answer. Pure: no sockets here.
 */

/** mulberry32: small, fast, and the same sequence for a seed on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzCase {
  kind: string;
  /** Written in order, `pauseMs[i]` after piece i. */
  pieces: Buffer[];
  pauseMs: number[];
  /** fin: half-close after the last piece; rst: reset after it; read: wait for the answer. */
  ending: "fin" | "rst" | "read";
}

export interface FuzzTarget {
  /** A Host that routes to the test service (`fz.localhost`). */
  host: string;
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** Bytes a parser must survive in a header: controls, CR/LF/NUL, DEL, high bytes, separators. */
const NASTY = [0x00, 0x0a, 0x0d, 0x09, 0x7f, 0x80, 0xff, 0xc3, 0x3a, 0x20, 0x22, 0x2c, 0x3b];

function nastyBytes(r: Rand, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = r() < 0.5 ? pick(r, NASTY) : int(r, 0x21, 0x7e);
  return b;
}

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "CONNECT", "TRACE", "BREW"];
const PATHS = ["/", "/echo", "/upload", "/sse", "/hold", "/v1/models", "*", "//x/../..", "/%00", "/?a=%ZZ"];

function head(method: string, target: string, host: string | null, headers: string[]): string {
  const h = host === null ? "" : `Host: ${host}\r\n`;
  return `${method} ${target} HTTP/1.1\r\n${h}${headers.map((x) => `${x}\r\n`).join("")}\r\n`;
}

/** Each generator returns the full byte stream of one client connection. */
const KINDS: Record<string, (r: Rand, t: FuzzTarget) => Buffer> = {
  valid: (r, t) => Buffer.from(head(pick(r, ["GET", "HEAD", "OPTIONS"]), pick(r, PATHS), t.host, [])),
  "random-header": (r, t) =>
    Buffer.concat([
      Buffer.from(`GET / HTTP/1.1\r\nHost: ${t.host}\r\n`),
      nastyBytes(r, int(r, 1, 40)),
      Buffer.from(": "),
      nastyBytes(r, int(r, 0, 60)),
      Buffer.from("\r\n\r\n"),
    ]),
  "random-request-line": (r) => Buffer.concat([nastyBytes(r, int(r, 1, 200)), Buffer.from("\r\n\r\n")]),
  "cl-te": (r, t) => {
    const body = "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    const headers = pick(r, [
      ["Content-Length: 4", "Transfer-Encoding: chunked"],
      ["Transfer-Encoding: chunked", "Content-Length: 4"],
      ["Content-Length: 4", "Content-Length: 5"],
      ["Content-Length: -1"],
      ["Content-Length: 99999999999999999999"],
      ["Content-Length: 4x"],
      ["Transfer-Encoding: chunked, identity"],
      ["Transfer-Encoding: gzip, chunked"],
      ["Transfer-Encoding:\tchunked"],
      ["Transfer-Encoding: xchunked"],
      ["Transfer-Encoding: chunked", " obs-fold"],
    ]);
    return Buffer.from(head("POST", "/echo", t.host, headers) + body);
  },
  "bad-chunks": (r, t) => {
    const chunk = pick(r, [
      "ffffffffffffffffffff\r\nx\r\n0\r\n\r\n",
      "5;ext=\x00\r\nhello\r\n0\r\n\r\n",
      "5\r\nhelloXX0\r\n\r\n",
      "-1\r\n\r\n",
      "3\r\nabc\r\n0\r\nTrailer: \r\x0a\r\n\r\n",
      "4\nabcd\n0\n\n",
    ]);
    return Buffer.from(head("POST", "/echo", t.host, ["Transfer-Encoding: chunked"]) + chunk);
  },
  upgrade: (r, t) => {
    const host = pick(r, [t.host, "nobody.localhost", "", t.host]);
    const headers = pick(r, [
      [
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
      ],
      ["Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQAAP__"],
      ["Upgrade: websocket"],
      ["Connection: upgrade", "Upgrade: \x01\x02"],
      ["Connection: Upgrade", "Upgrade: websocket", "Content-Length: 5"],
    ]);
    const frames =
      r() < 0.5 ? Buffer.from([0x81, 0x85, 1, 2, 3, 4, 0x69, 0x67, 0x6f, 0x68, 0x6e]) : Buffer.alloc(0);
    return Buffer.concat([Buffer.from(head(pick(r, ["GET", "POST"]), "/ws", host, headers)), frames]);
  },
  pipeline: (r, t) => {
    const n = int(r, 2, 5);
    const parts: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const k = pick(r, ["valid", "valid", "cl-te", "upgrade", "expect"]);
      parts.push(KINDS[k](r, t));
    }
    return Buffer.concat(parts);
  },
  expect: (r, t) => {
    const len = int(r, 0, 64);
    const send = r() < 0.5 ? "x".repeat(len) : "";
    return Buffer.from(
      head("POST", pick(r, ["/upload", "/echo"]), t.host, [
        "Expect: 100-continue",
        `Content-Length: ${len}`,
      ]) + send,
    );
  },
  "absolute-form": (r, t) =>
    Buffer.from(
      head("GET", pick(r, [`http://${t.host}/echo`, "http://nobody.localhost/", "https://x/"]), null, []),
    ),
  "slow-body": (r, t) => {
    const len = int(r, 1, 4096);
    const sent = int(r, 0, len);
    return Buffer.from(head("POST", "/upload", t.host, [`Content-Length: ${len}`]) + "y".repeat(sent));
  },
  "huge-headers": (r, t) => {
    const n = int(r, 8, 80);
    const headers = Array.from({ length: n }, (_, i) => `X-Big-${i}: ${"z".repeat(int(r, 100, 1000))}`);
    return Buffer.from(head("GET", "/", t.host, headers));
  },
  "no-host": (r) => Buffer.from(`${pick(r, METHODS)} ${pick(r, PATHS)} HTTP/1.${int(r, 0, 1)}\r\n\r\n`),
};

export const FUZZ_KINDS = Object.keys(KINDS);

/** One connection's worth of hostile bytes, cut into pieces with pauses, and its ending. */
export function makeCase(r: Rand, t: FuzzTarget): FuzzCase {
  const kind = pick(r, FUZZ_KINDS);
  let bytes = KINDS[kind](r, t);
  const ending = pick(r, ["fin", "rst", "read", "read"] as const);
  // Half the time the client leaves early: the stream stops at a random byte.
  if (ending !== "read" && r() < 0.5) bytes = bytes.subarray(0, int(r, 0, bytes.length));
  const pieces: Buffer[] = [];
  const pauseMs: number[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = r() < 0.6 ? bytes.length - at : int(r, 1, Math.max(1, bytes.length - at));
    pieces.push(bytes.subarray(at, at + n));
    pauseMs.push(r() < 0.7 ? 0 : int(r, 1, 25));
    at += n;
  }
  return { kind, pieces, pauseMs, ending };
}
