// @pure: when each generated token is due, no clocks read here
/**
 * The fake engine's token timing, per sequence, measured from the moment the sequence starts
 * running (it left the queue): the prefill produces the first token after `prefillMs`, then one
 * decode step per further token every `tokenDelayMs`. So token i is due at
 * `prefillMs + i * tokenDelayMs`, a completion of n tokens takes `prefillMs + (n-1) * tokenDelayMs`
 * running, and its time to first token is its queue time plus `prefillMs` (as vLLM measures TTFT
 * from arrival). The same schedule drives streamed and non-streamed responses: a non-streamed
 * response is written when its last token is due.
 */
export interface TokenTiming {
  prefillMs: number;
  tokenDelayMs: number;
}

/** Offset in ms, from the start of running, at which token `i` (0-based) is produced. */
export function tokenDueMs(t: TokenTiming, i: number): number {
  return t.prefillMs + i * t.tokenDelayMs;
}

/** Running time of a completion of `n` tokens (its last token's offset). */
export function runningMs(t: TokenTiming, n: number): number {
  return n <= 0 ? 0 : tokenDueMs(t, n - 1);
}

/**
 * How long to wait before producing token `i`, given the ms elapsed since the sequence started.
 * Waiting for the due time (not a fixed delay after the previous token) keeps timer lateness
 * from accumulating over a long completion. 0 = produce it now.
 */
export function waitBeforeToken(t: TokenTiming, i: number, elapsedMs: number): number {
  return Math.max(0, tokenDueMs(t, i) - elapsedMs);
}

/** `--tokens-per-second R` as the per-token delay it means. */
export function delayFromRate(tokensPerSecond: number): number {
  return 1000 / tokensPerSecond;
}
