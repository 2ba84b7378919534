import type { LoadGen } from "./load.js";
import type { Profile } from "./options.js";
import type { BenchSystem } from "./system.js";

/** What each phase of the bench runs against. */
export interface PhaseContext {
  bench: BenchSystem;
  load: LoadGen;
  p: Profile;
  log: (s: string) => void;
}

/** A phase's own requests: how many, and how many failed (must be none). */
export interface Counted {
  requests: number;
  failed: number;
}

/** The requests sent since `from` (an index into `load.sent`). */
export function countedSince(load: LoadGen, from: number): Counted {
  return { requests: load.sent.length - from, failed: load.failed(from).length };
}
