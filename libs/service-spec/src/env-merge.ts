// @pure: no I/O (tools/lint-boundaries checks it)
import { type Issue, YardError } from "@switchyard/contracts";

export type EnvMap = Record<string, string | null>;

/** Later layers win: YAML `envs` < `--env-file` < `--env` (and `secrets:` < `--secret`). */
export function mergeLayers(...layers: (Record<string, string | null> | undefined)[]): EnvMap {
  const out: EnvMap = {};
  for (const layer of layers) Object.assign(out, layer ?? {});
  return out;
}

/** One issue per variable still without a value after merging; names only, never values. */
export function nullIssues(envs: EnvMap, secrets: EnvMap): Issue[] {
  const out: Issue[] = [];
  for (const [k, v] of Object.entries(envs)) {
    if (v !== null || (k in secrets && secrets[k] !== null)) continue;
    out.push({
      path: `envs.${k}`,
      message: `Environment variable '${k}' has no value. Pass it with --env ${k}=VALUE or in an --env-file (to set it empty, use an empty string)`,
    });
  }
  for (const [k, v] of Object.entries(secrets)) {
    if (v !== null) continue;
    out.push({
      path: `secrets.${k}`,
      message: `Secret '${k}' has no value. Pass it with --secret ${k}=VALUE`,
    });
  }
  return out;
}

export function nullEnvError(issues: Issue[]): YardError {
  const names = issues.map((i) => i.path.replace(/^(envs|secrets)\./, ""));
  const message =
    issues.length === 1
      ? issues[0]!.message
      : `${names.length} variables have no value: ${names.join(", ")}. Pass each with --env NAME=VALUE or --env-file (secrets with --secret NAME=VALUE)`;
  return new YardError("SY_ERR_ENV_NULL", message, issues);
}

/** The non-null values, for substitution and for the replica's environment. */
export function definedOnly(env: EnvMap): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== null) out[k] = v;
  return out;
}
