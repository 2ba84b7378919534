import { closeSync, openSync, readSync, statSync } from "node:fs";

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
