// @pure: no I/O (tools/lint-boundaries checks it)
import type { ResolvedSpec } from "./spec.js";

export const MASK = "***";

/**
 * Secret values shorter than this are masked only where they stand as a whole token: a
 * one-letter `HF_TOKEN=h` must not turn `python` into `pyt***on`. Longer ones are masked
 * wherever they appear, inside words too. (A short secret glued to other letters therefore
 * shows; the envs of secret names are always `***` whatever their length, see maskSpec.)
 */
export const SHORT_SECRET_LENGTH = 8;

/** The distinct non-empty secret values of a spec, longest first. */
export function secretValues(spec: Pick<ResolvedSpec, "envs" | "secret_names">): string[] {
  const values = spec.secret_names
    .map((k) => spec.envs[k])
    .filter((v): v is string => typeof v === "string" && v.length > 0);
  return [...new Set(values)].sort((a, b) => b.length - a.length);
}

const WORD_CHAR = /^[\p{L}\p{N}]$/u;
const isWordChar = (c: string | undefined) => c !== undefined && WORD_CHAR.test(c);

/**
 * Where secrets occur in `text`: sorted, disjoint `[start, end)` ranges, overlapping
 * occurrences merged (so overlapping secrets are masked as one whole, whatever their order;
 * two that merely touch stay two, `******`, as they would when a log chunk ends between them).
 * A short secret counts only as a whole token: not preceded or followed by a letter or digit
 * where its own first or last character is one (`Bearer h`, `'h'`, `--key=h` are tokens; the h
 * of `python` is not). The ends of `text` count as boundaries.
 */
export function secretRanges(text: string, secrets: readonly string[]): [number, number][] {
  const found: [number, number][] = [];
  for (const s of new Set(secrets)) {
    if (s.length === 0) continue;
    const short = s.length < SHORT_SECRET_LENGTH;
    const wordStart = isWordChar(s[0]);
    const wordEnd = isWordChar(s[s.length - 1]);
    for (let i = text.indexOf(s); i !== -1; i = text.indexOf(s, i + 1)) {
      const end = i + s.length;
      if (short && ((wordStart && isWordChar(text[i - 1])) || (wordEnd && isWordChar(text[end])))) continue;
      found.push([i, end]);
    }
  }
  found.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of found) {
    const last = merged[merged.length - 1];
    if (last && start < last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/** `text` with each range of `secretRanges` replaced by `***`. */
export function maskText(text: string, secrets: readonly string[]): string {
  const ranges = secretRanges(text, secrets);
  if (ranges.length === 0) return text;
  let out = "";
  let at = 0;
  for (const [start, end] of ranges) {
    out += text.slice(at, start) + MASK;
    at = end;
  }
  return out + text.slice(at);
}

/**
 * A JSON value with secrets masked in its keys and strings; a number or boolean that shows a
 * secret becomes `"***"`. (Masking the serialized text instead could leave invalid JSON, e.g.
 * a secret `1` in `{"n":1}`.)
 */
function maskJson(v: unknown, secrets: readonly string[]): unknown {
  if (typeof v === "string") return maskText(v, secrets);
  if (typeof v === "number" || typeof v === "boolean")
    return maskText(String(v), secrets) === String(v) ? v : MASK;
  if (Array.isArray(v)) return v.map((x) => maskJson(x, secrets));
  if (v !== null && typeof v === "object")
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [maskText(k, secrets), maskJson(x, secrets)]),
    );
  return v;
}

/**
 * A copy of the spec safe to print: secret envs become `***`, and inside probe headers and
 * post_data every substituted secret becomes `***` (so `Bearer t0k` shows as `Bearer ***`).
 */
export function maskSpec(spec: ResolvedSpec): ResolvedSpec {
  const secrets = secretValues(spec);
  const envs = Object.fromEntries(
    Object.entries(spec.envs).map(([k, v]) => [k, spec.secret_names.includes(k) ? MASK : v]),
  );
  const probe = spec.service.readiness_probe;
  const headers = Object.fromEntries(
    Object.entries(probe.headers).map(([k, v]) => [k, maskText(v, secrets)]),
  );
  const post_data = probe.post_data === null ? null : maskJson(probe.post_data, secrets);
  return {
    ...spec,
    envs,
    setup: spec.setup === null ? null : maskText(spec.setup, secrets),
    run: spec.run === null ? null : maskText(spec.run, secrets),
    service: { ...spec.service, readiness_probe: { ...probe, headers, post_data } },
  };
}
