import { formatError, YardError } from "@switchyard/contracts";

/** A mistake in the command line itself: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export const EXIT = { ok: 0, error: 1, usage: 2 } as const;

/** stderr text and exit code for anything a command threw. */
export function describeError(err: unknown): { text: string; code: number } {
  if (err instanceof UsageError) return { text: `error: ${err.message}`, code: EXIT.usage };
  if (err instanceof YardError) return { text: `error [${err.code}]: ${formatError(err)}`, code: EXIT.error };
  const msg = err instanceof Error ? err.message : String(err);
  return { text: `error: ${msg}`, code: EXIT.error };
}
