import { MASK } from "@switchyard/contracts";

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

const LONG_SECRET = 8;
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The CLI's safety net over everything it prints (specs are already masked by maskSpec): a
 * secret of 8+ characters is masked wherever it appears; a shorter one only as a whole word,
 * so that `HF_TOKEN=h` does not turn every "h" of the output into `***`.
 */
export function maskLoose(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= LONG_SECRET) out = out.split(s).join(MASK);
    else out = out.replace(new RegExp(`(?<![A-Za-z0-9])${escapeRe(s)}(?![A-Za-z0-9])`, "g"), MASK);
  }
  return out;
}

/** An Io that masks every value `secrets()` returns (see maskLoose) before it leaves the process. */
export function maskedIo(io: Io, secrets: () => readonly string[]): Io {
  const m = (t: string) => maskLoose(t, secrets());
  return {
    ...io,
    out: (l) => io.out(m(l)),
    err: (l) => io.err(m(l)),
    write: (t) => io.write(m(t)),
  };
}

/** Secret values first by length so an overlapping shorter one cannot leave a tail visible. */
export function longestFirst(values: Iterable<string>): string[] {
  return [...new Set([...values].filter((v) => v.length > 0))].sort((a, b) => b.length - a.length);
}
