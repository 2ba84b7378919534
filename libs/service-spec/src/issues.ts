// @pure: no I/O (tools/lint-boundaries checks it)
import type { Issue } from "@switchyard/contracts";
import { maskText } from "@switchyard/contracts";
import type { z } from "zod";

export type { Issue };

// User values quoted in a message are wrapped in these marks so that the final step can mask
// any secret inside them (a `$TOKEN` substituted into a field can surface in a message) without
// touching the rest of the text.
const OPEN = "\u0001";
const CLOSE = "\u0002";

/** Quote a user-supplied value inside an issue message (see `redactMessage`). */
export function show(value: unknown): string {
  const text = typeof value === "string" ? `'${value}'` : JSON.stringify(value);
  return `${OPEN}${text}${CLOSE}`;
}

/** Drop the quote marks, masking every secret that appears inside a quoted value. */
export function redactMessage(message: string, secrets: readonly string[]): string {
  return message.replace(/\u0001([\s\S]*?)\u0002/g, (_m, inner: string) => maskText(inner, secrets));
}

/** `["a", 0, "b"]` → `a[0].b`; `prefix` is prepended with a dot. */
export function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}

/**
 * `prefix.key`, or `prefix["key"]` (JSON-quoted) when the key is not a plain word: a hostile key
 * (`A;touch /tmp/y`, one with CR/LF) then shows exactly, on one line.
 */
export function keyPath(prefix: string, key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? `${prefix}.${key}` : `${prefix}[${JSON.stringify(key)}]`;
}

/** zod issues as our issues, one per unknown key (so each names its own path). */
export function fromZod(error: z.ZodError, prefix: string): Issue[] {
  const out: Issue[] = [];
  for (const i of error.issues) {
    if (i.code === "unrecognized_keys") {
      for (const k of i.keys) {
        out.push({ path: joinPath(prefix, [...i.path, k]), message: `unknown key ${show(k)}` });
      }
    } else if (i.code === "invalid_type" && /received undefined$/.test(i.message)) {
      out.push({ path: joinPath(prefix, i.path), message: "is required" });
    } else {
      out.push({ path: joinPath(prefix, i.path), message: i.message });
    }
  }
  return out;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
