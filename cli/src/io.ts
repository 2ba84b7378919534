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
