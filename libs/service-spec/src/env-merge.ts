// @pure: no I/O (tools/lint-boundaries checks it)
import { type Issue, YardError } from "@switchyard/contracts";
import { keyPath } from "./issues.js";
import { ENV_NAME_RE } from "./task-schema.js";

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

/**
 * Names that the dynamic loader or bash act on as the replica's runner starts, before `setup`
 * and `run` (Switchyard's runner is a bash script the replica's env is given to): glibc's
 * `LD_*` (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT, ...) and GLIBC_TUNABLES, macOS's `DYLD_*`, and
 * bash's start-up hooks (BASH_ENV, ENV; SHELLOPTS/BASHOPTS + PS4 can run code through xtrace).
 * A program that needs one sets it inside `run:` (`export LD_LIBRARY_PATH=...`), where it
 * reaches that program only. NODE_OPTIONS, PYTHONPATH and the like stay allowed: they reach
 * only the programs `run:` starts, which the spec controls anyway.
 */
export const DENIED_ENV_RE = /^(LD_|DYLD_)|^(GLIBC_TUNABLES|BASH_ENV|ENV|SHELLOPTS|BASHOPTS|PS4)$/;

/**
 * The rule YAML `envs:` keys follow (task-schema's ENV_NAME_RE), for a layer that did not come
 * from the YAML (an API request's `env`, `env_file`, `secrets`), plus the denied names for every
 * layer. `syntax: false` for the YAML sections, whose schema already checks the form.
 */
export function envNameIssues(
  layer: Readonly<Record<string, unknown>> | undefined,
  label: string,
  syntax: boolean,
): Issue[] {
  const out: Issue[] = [];
  for (const k of Object.keys(layer ?? {})) {
    if (!ENV_NAME_RE.test(k)) {
      if (syntax)
        out.push({
          path: keyPath(label, k),
          message: "not a valid env var name: letters, digits and _, not starting with a digit",
        });
    } else if (DENIED_ENV_RE.test(k)) {
      out.push({
        path: keyPath(label, k),
        message: `${k} is refused: the loader or bash would act on it in Switchyard's replica runner, before setup and run; set it inside run: (export ${k}=...) instead`,
      });
    }
  }
  return out;
}
