// @pure: no I/O (tools/lint-boundaries checks it)
import type { ResolvedSpec, YardError } from "@switchyard/contracts";
import type { SpecLimits } from "./limits.js";

export interface ResolveInput {
  /** The service YAML text. */
  yaml: string;
  /** `-n NAME`; else the YAML's `name:`; else derived from `fileName`. */
  name?: string;
  /** File name the YAML came from, for messages and for a default name. */
  fileName?: string;
  /** Values from `--env-file` (already parsed). Precedence: YAML envs < envFile < env. */
  envFile?: Record<string, string>;
  /** Values from `--env K=V`. */
  env?: Record<string, string>;
  /** Values from `--secret K=V` (merged over the YAML's `secrets:` section). */
  secrets?: Record<string, string>;
  /** Size, nesting, alias and replica limits; each one not given is DEFAULT_SPEC_LIMITS's. */
  limits?: Partial<SpecLimits>;
}

export type ResolveResult =
  | { ok: true; spec: ResolvedSpec; warnings: string[] }
  | { ok: false; error: YardError };
