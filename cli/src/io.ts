import { maskText } from "@switchyard/contracts";

/** Where a command writes and what it reads from its caller; a real process or a test. */
export interface Io {
  /** Write a line to stdout. */
  out(line: string): void;
  /** Write a line to stderr. */
  err(line: string): void;
  /** Write raw text to stdout (log chunks). */
  write(text: string): void;
  env: Record<string, string | undefined>;
  /** Directory that relative file arguments are read from. */
  cwd: string;
  /** Aborted on Ctrl-C: long-running commands stop and clean up. */
  signal: AbortSignal;
  now(): number;
}

/**
 * The CLI's safety net over everything it prints (specs are already masked by maskSpec): every
 * value `secrets()` returns is masked by the contracts' maskText (short values only as whole
 * tokens) before it leaves the process.
 */
export function maskedIo(io: Io, secrets: () => readonly string[]): Io {
  const m = (t: string) => maskText(t, secrets());
  return {
    ...io,
    out: (l) => io.out(m(l)),
    err: (l) => io.err(m(l)),
    write: (t) => io.write(m(t)),
  };
}

const strict = new TextDecoder("utf-8", { fatal: true });
// Keeps a BOM as U+FEFF, so that byte offsets count it.
const lenient = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * File bytes as text, or the offset of the first byte that is not UTF-8 (a file in Latin-1 or
 * UTF-16 would otherwise reach the spec with U+FFFD in place of what the user wrote). Up to the
 * first bad sequence the lenient decoder maps bytes one-to-one, so the first U+FFFD that the
 * bytes do not spell (EF BF BD) is where it is.
 */
export function decodeUtf8(bytes: Uint8Array): { ok: true; text: string } | { ok: false; offset: number } {
  try {
    return { ok: true, text: strict.decode(bytes) };
  } catch {
    const text = lenient.decode(bytes);
    let offset = 0;
    let from = 0;
    for (let i = text.indexOf("\ufffd"); i !== -1; i = text.indexOf("\ufffd", i + 1)) {
      offset += Buffer.byteLength(text.slice(from, i));
      from = i;
      if (!(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd)) break;
    }
    return { ok: false, offset };
  }
}
