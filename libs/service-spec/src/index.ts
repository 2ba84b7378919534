// @pure: no I/O (tools/lint-boundaries checks it)
// Public API of the spec resolution library (pure: no I/O).
import { resolve } from "./resolve.js";
import type { ResolveInput, ResolveResult } from "./types.js";

export { parseAccelerators } from "./accelerators.js";
export { SPOT_PLACERS } from "./cross-field.js";
export { parseEnvFile, parseKeyValue } from "./env-file.js";
export { DENIED_ENV_RE } from "./env-merge.js";
export { DEFAULT_SPEC_LIMITS, type SpecLimits } from "./limits.js";
export { nameFromFile } from "./name.js";
export { parsePorts } from "./ports.js";
export { SECRET_NAME_RE } from "./secrets.js";
export { IGNORED_TASK_KEYS } from "./task-schema.js";
export type { CertFacts, TlsCheck } from "./tls-pair.js";
export { checkTlsMaterial, tlsMaterialError } from "./tls-pair.js";
export type { ResolveInput, ResolveResult };

/**
 * Resolve a SkyServe service YAML with its overrides into a validated `ResolvedSpec`: parse,
 * validate every rule, merge envs (YAML < env file < --env), substitute `$VARS` in `service:`,
 * fill defaults and track secrets. A failure lists every problem with its path; no message
 * contains a secret value.
 */
export function resolveSpec(input: ResolveInput): ResolveResult {
  return resolve(input);
}
