import { closeSync, openSync, readSync, statSync } from "node:fs";
import { MASK, SHORT_SECRET_LENGTH, secretRanges } from "@switchyard/contracts";

export interface ChunkRequest {
  offset: number;
  tail_bytes?: number;
  max_bytes: number;
}

/** Byte range to read from a file of `size` bytes: `tail_bytes` applies when reading from 0. */
export function chunkRange(size: number, r: ChunkRequest): { start: number; length: number } {
  const start = r.offset === 0 && r.tail_bytes ? Math.max(0, size - r.tail_bytes) : Math.min(r.offset, size);
  return { start, length: Math.max(0, Math.min(r.max_bytes, size - start)) };
}

/** Length of `buf` without a trailing incomplete UTF-8 character (left for the next chunk). */
export function completeUtf8Length(buf: Buffer): number {
  let i = buf.length - 1;
  let cont = 0;
  while (i >= 0 && cont < 3 && (buf[i] & 0xc0) === 0x80) {
    i--;
    cont++;
  }
  if (i < 0) return buf.length;
  const lead = buf[i];
  const need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
  return need > cont ? i : buf.length;
}

/** Read one chunk of a log file; a missing file reads as empty. */
export function readChunk(file: string, r: ChunkRequest): { data: string; next_offset: number } {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return { data: "", next_offset: r.offset };
  }
  const { start, length } = chunkRange(size, r);
  const buf = Buffer.alloc(length);
  const fd = openSync(file, "r");
  try {
    readSync(fd, buf, 0, length, start);
  } finally {
    closeSync(fd);
  }
  const n = completeUtf8Length(buf);
  return { data: buf.subarray(0, n).toString("utf8"), next_offset: start + n };
}

/**
 * Mask a window of a log that is read in chunks. `text[0, from)` is lookbehind (already sent,
 * or before a tail's start); the chunk starts at `from`. `final`: no byte will ever follow
 * `text`. Returns the masked chunk and `end`, the index of `text` it covers up to; the caller
 * resumes there.
 *
 * A secret split across two chunks must not leak its first half, so when more may follow the
 * chunk stops before the longest suffix of `text` that could begin a secret (a prefix of one,
 * or a whole short one, whose token boundary is still unknown): those at most
 * max-secret-length characters go out with the next chunk, masked whole. Holding back a tail
 * rather than whole lines works for any log (progress bars without newlines, lines longer than
 * a chunk, secrets containing a newline) and costs no more than that tail. The lookbehind
 * (longer than any secret) lets a chunk see a secret that began before its start: a tail read
 * landing inside one shows `***` for its rest.
 */
export function maskWindow(
  text: string,
  from: number,
  secrets: readonly string[],
  final: boolean,
): { data: string; end: number } {
  const ranges = secretRanges(text, secrets);
  let end = text.length;
  if (!final) {
    end = heldBack(text, from, secrets);
    // A secret crossing the cut goes out whole with the next chunk (if this one still has text).
    const across = ranges.find(([a, b]) => a < end && end < b);
    if (across && across[0] > from) end = across[0];
  }
  let data = "";
  let at = from;
  for (const [a, b] of ranges) {
    if (b <= at) continue;
    if (a >= end) break;
    data += text.slice(at, Math.max(a, at)) + MASK;
    at = Math.min(b, end);
  }
  return { data: data + text.slice(at, end), end };
}

/** Start of the longest suffix of `text` (at or after `from`) that could begin a secret. */
function heldBack(text: string, from: number, secrets: readonly string[]): number {
  const longest = Math.max(0, ...secrets.map((s) => s.length));
  for (let i = Math.max(from, text.length - longest); i < text.length; i++) {
    const tail = text.slice(i);
    if (secrets.some((s) => s.startsWith(tail) && (tail.length < s.length || s.length < SHORT_SECRET_LENGTH)))
      return i;
  }
  return text.length;
}

/**
 * `readChunk` with every secret masked (see maskWindow). `more`: the replica may still write
 * to the file. `next_offset` stays a byte offset into the file.
 */
export function readMaskedChunk(
  file: string,
  r: ChunkRequest,
  secrets: readonly string[],
  more: boolean,
): { data: string; next_offset: number } {
  const values = secrets.filter((s) => s.length > 0);
  if (values.length === 0) return readChunk(file, r);
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return { data: "", next_offset: r.offset };
  }
  // Lookbehind longer than any secret plus a boundary character; a chunk at least twice that,
  // so that a chunk always has something to send besides what it holds back.
  const look = Math.max(...values.map((s) => Buffer.byteLength(s))) + 4;
  const { start, length } = chunkRange(size, { ...r, max_bytes: Math.max(r.max_bytes, 2 * look) });
  const first = Math.max(0, start - look);
  const buf = Buffer.alloc(start + length - first);
  const fd = openSync(file, "r");
  try {
    readSync(fd, buf, 0, buf.length, first);
  } finally {
    closeSync(fd);
  }
  // Both ends of the lookbehind on character boundaries (a tail's start can fall inside one).
  let s = start - first;
  while (s < buf.length && (buf[s] & 0xc0) === 0x80) s++;
  let b = 0;
  while (b < s && (buf[b] & 0xc0) === 0x80) b++;
  const chunk = buf.subarray(s);
  const n = completeUtf8Length(chunk);
  const behind = buf.subarray(b, s).toString("utf8");
  const text = behind + chunk.subarray(0, n).toString("utf8");
  const final = !more && first + s + n === size;
  const { data, end } = maskWindow(text, behind.length, values, final);
  // What is held back is secret text (valid UTF-8), so its byte length is exact.
  return { data, next_offset: first + s + n - Buffer.byteLength(text.slice(end)) };
}
