// @pure: no I/O (tools/lint-boundaries checks it)
/** Env names that hold credentials by convention: their values are masked wherever shown. */
export const SECRET_NAME_RE = /TOKEN|SECRET|PASSW(OR)?D|API_?KEY|CREDENTIAL|PRIVATE_?KEY/i;

const PROBE_PATHS = /^service\.readiness_probe\.(headers|post_data)(\.|\[|$)/;

export interface SecretSources {
  /** Keys of the YAML `secrets:` section and of `--secret`. */
  secretKeys: Iterable<string>;
  /** Every env name (YAML envs, env file, --env). */
  envNames: Iterable<string>;
  /** Substitutions made in `service:`: name → paths. */
  substituted: ReadonlyMap<string, readonly string[]>;
}

/**
 * The names whose values must never be printed: declared secrets, credential-looking env names,
 * and every variable substituted into the probe's headers or body (the probe sends them to the
 * replica as credentials, e.g. `Authorization: Bearer $AUTH_TOKEN`).
 */
export function secretNames(src: SecretSources): string[] {
  const out = new Set<string>(src.secretKeys);
  for (const k of src.envNames) if (SECRET_NAME_RE.test(k)) out.add(k);
  for (const [name, paths] of src.substituted) if (paths.some((p) => PROBE_PATHS.test(p))) out.add(name);
  return [...out].sort();
}
