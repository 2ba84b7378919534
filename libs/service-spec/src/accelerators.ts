// @pure: no I/O (tools/lint-boundaries checks it)
import type { AcceleratorCandidate } from "@switchyard/contracts";
import { type Issue, isRecord, show } from "./issues.js";

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export interface AcceleratorsResult {
  candidates: AcceleratorCandidate[];
  issues: Issue[];
}

function one(text: string, count: unknown, path: string, issues: Issue[]): AcceleratorCandidate | null {
  const trimmed = text.trim();
  const colon = trimmed.lastIndexOf(":");
  let name = trimmed;
  let n: unknown = count ?? 1;
  if (colon >= 0) {
    // `{L4:1, A10G:1}` is a YAML flow mapping whose keys are "L4:1" with null values: the count
    // lives in the key. A count in both places is ambiguous.
    if (count !== null && count !== undefined) {
      issues.push({
        path,
        message: `${show(trimmed)} gives a count twice; write {NAME: COUNT} or NAME:COUNT`,
      });
      return null;
    }
    name = trimmed.slice(0, colon).trim();
    const c = trimmed.slice(colon + 1).trim();
    n = /^\d+(\.\d+)?$/.test(c) ? Number(c) : Number.NaN;
  }
  if (!NAME_RE.test(name)) {
    issues.push({ path, message: `${show(name)} is not an accelerator name (e.g. A100, L4, A100-80GB)` });
    return null;
  }
  if (typeof n !== "number" || !Number.isFinite(n) || n <= 0) {
    issues.push({ path, message: `accelerator ${show(name)} needs a count greater than 0` });
    return null;
  }
  return { name, count: n };
}

function fromString(text: string, path: string, issues: Issue[]): (AcceleratorCandidate | null)[] {
  const t = text.trim();
  // SkyPilot also reads a set literal written as a string, `'{A100:1, V100:1}'`, and a list.
  const inner = /^\{.*\}$|^\[.*\]$/s.test(t) ? t.slice(1, -1) : null;
  if (inner === null) return [one(t, null, path, issues)];
  return inner
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => one(s, null, path, issues));
}

/**
 * Every written form of `accelerators` → candidates, any one of which satisfies a replica:
 * "A100:1", "A100", {A100: 1}, {L4:1, A10G:1} (set literal), ["L4:1", "A100"], '{L4:1, A100:1}'.
 * Duplicates are dropped, first occurrence wins.
 */
export function parseAccelerators(value: unknown, path: string): AcceleratorsResult {
  const issues: Issue[] = [];
  let found: (AcceleratorCandidate | null)[] = [];
  if (value === null || value === undefined) found = [];
  else if (typeof value === "string") found = fromString(value, path, issues);
  else if (Array.isArray(value)) {
    found = value.flatMap((v, i) => {
      if (typeof v === "string") return fromString(v, `${path}[${i}]`, issues);
      issues.push({ path: `${path}[${i}]`, message: "expected a string like A100:1" });
      return [];
    });
  } else if (isRecord(value)) {
    found = Object.entries(value).map(([k, v]) => {
      if (v !== null && typeof v !== "number") {
        issues.push({ path: `${path}.${k}`, message: "expected a number (the count) or nothing" });
        return null;
      }
      return one(k, v, `${path}.${k}`, issues);
    });
  } else {
    issues.push({ path, message: "expected a string (A100:1), a mapping ({A100: 1}) or a list" });
  }
  return { candidates: dedupe(found.filter((c): c is AcceleratorCandidate => c !== null)), issues };
}

export function dedupe(list: readonly AcceleratorCandidate[]): AcceleratorCandidate[] {
  const seen = new Set<string>();
  const out: AcceleratorCandidate[] = [];
  for (const c of list) {
    const key = `${c.name}:${c.count}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(c);
  }
  return out;
}
