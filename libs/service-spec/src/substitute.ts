// @pure: no I/O (tools/lint-boundaries checks it)
import { joinPath } from "./issues.js";

// SkyServe's regex (sky/task.py `_fill_in_env_vars`), quirks included: `${A` and `$A}` match too.
export const VAR_RE = /\$\{?\b([a-zA-Z_][a-zA-Z0-9_]*)\b\}?/g;

export interface Substituted {
  value: unknown;
  /** Variable name → dotted paths where its value was put. */
  used: Map<string, string[]>;
  /** Names referenced but not defined; they stay literally as written. */
  unknown: Set<string>;
}

/**
 * Replace `$VAR` / `${VAR}` in every string value of `section` (keys and non-strings are left
 * alone, so `replicas: $N` becomes the string "3" and fails the integer schema, as in SkyServe).
 */
export function substitute(
  section: unknown,
  vars: Readonly<Record<string, string>>,
  prefix: string,
): Substituted {
  const used = new Map<string, string[]>();
  const unknown = new Set<string>();
  const walk = (v: unknown, path: PropertyKey[]): unknown => {
    if (typeof v === "string") {
      return v.replace(VAR_RE, (match: string, name: string) => {
        if (!Object.hasOwn(vars, name)) {
          unknown.add(name);
          return match;
        }
        const at = joinPath(prefix, path);
        used.set(name, [...(used.get(name) ?? []), at]);
        return vars[name]!;
      });
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]));
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...path, k])]));
    }
    return v;
  };
  return { value: walk(section, []), used, unknown };
}
