import { expect } from "vitest";
import { stringify } from "yaml";
import { resolveSpec } from "./index.js";

// Shared by the rule tests: a minimal valid task, and "resolve this document, give me the paths".
export const base = { resources: { ports: 8080 }, run: "python3 server.py", service: { replicas: 1 } };

export const resolveDoc = (doc: Record<string, unknown>, name = "svc") =>
  resolveSpec({ yaml: stringify(doc), fileName: `${name}.yaml` });

/** The issue paths of a rejected document ([] when it resolves). */
export function pathsOf(doc: Record<string, unknown>): string[] {
  const r = resolveDoc(doc);
  if (r.ok) return [];
  expect(r.error.code).toBe("SY_ERR_SPEC_INVALID");
  return r.error.issues.map((i) => i.path);
}
