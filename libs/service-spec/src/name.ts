// @pure: no I/O (tools/lint-boundaries checks it)
import { SERVICE_NAME_RE } from "@switchyard/contracts";
import { type Issue, show } from "./issues.js";

/** `path/to/My_Service.yaml` → `my-service`; undefined when nothing usable is left. */
export function nameFromFile(fileName: string): string | undefined {
  const base = fileName.split(/[\\/]/).pop() ?? "";
  const stem = base.includes(".") ? base.slice(0, base.lastIndexOf(".")) : base;
  const label = stem
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^[^a-z]+/, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return SERVICE_NAME_RE.test(label) ? label : undefined;
}

const RULE = "must be a lowercase DNS label: a-z, 0-9 and '-', starting with a letter, at most 63 characters";

/** `-n NAME`, else the YAML's `name:`, else derived from the file name. */
export function resolveName(
  flag: string | undefined,
  yamlName: string | undefined,
  fileName: string | undefined,
): { name?: string; issues: Issue[] } {
  const given = flag ?? yamlName;
  if (given !== undefined) {
    if (SERVICE_NAME_RE.test(given)) return { name: given, issues: [] };
    const from = flag !== undefined ? "-n" : "name:";
    return { issues: [{ path: "name", message: `service name ${show(given)} (from ${from}) ${RULE}` }] };
  }
  const derived = fileName ? nameFromFile(fileName) : undefined;
  if (derived) return { name: derived, issues: [] };
  return {
    issues: [{ path: "name", message: "no service name: give one with -n NAME or `name:` in the YAML" }],
  };
}
