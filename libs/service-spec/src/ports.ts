// @pure: no I/O (tools/lint-boundaries checks it)
import { type Issue, show } from "./issues.js";

// A range expands to that many numbers in the stored spec; cap it so a typo cannot bloat it.
export const MAX_PORTS = 1000;

function valid(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

function one(item: unknown, path: string, out: number[], issues: Issue[]): void {
  if (typeof item === "number") {
    if (valid(item)) out.push(item);
    else issues.push({ path, message: `port ${show(item)} must be an integer between 1 and 65535` });
    return;
  }
  if (typeof item !== "string") {
    issues.push({ path, message: "expected a port (8080), a range ('8000-8010') or a list of them" });
    return;
  }
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(item);
  if (!m) {
    issues.push({ path, message: `${show(item)} is not a port or a port range like 8000-8010` });
    return;
  }
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (!valid(lo) || !valid(hi) || hi < lo) {
    issues.push({ path, message: `${show(item)}: ports must be between 1 and 65535, low to high` });
    return;
  }
  if (hi - lo + 1 > MAX_PORTS) {
    issues.push({ path, message: `${show(item)} opens more than ${MAX_PORTS} ports` });
    return;
  }
  for (let p = lo; p <= hi; p++) out.push(p);
}

/** `ports` in any written form (8080, "8080", "8000-8010", a list of these, null) → sorted unique. */
export function parsePorts(value: unknown, path: string): { ports: number[]; issues: Issue[] } {
  const out: number[] = [];
  const issues: Issue[] = [];
  if (value === null || value === undefined) return { ports: [], issues };
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      one(v, `${path}[${i}]`, out, issues);
    });
  } else one(value, path, out, issues);
  return { ports: [...new Set(out)].sort((a, b) => a - b), issues };
}
