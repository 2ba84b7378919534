import type { ResolvedSpec } from "./spec.js";

export const MASK = "***";

/** The secret values of a spec, longest first so that overlapping values mask fully. */
export function secretValues(spec: Pick<ResolvedSpec, "envs" | "secret_names">): string[] {
  return spec.secret_names
    .map((k) => spec.envs[k])
    .filter((v): v is string => typeof v === "string" && v.length > 0)
    .sort((a, b) => b.length - a.length);
}

/** Replace every occurrence of each secret in `text` by `***`. */
export function maskText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join(MASK);
  return out;
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
  const post_data =
    probe.post_data === null ? null : JSON.parse(maskText(JSON.stringify(probe.post_data), secrets));
  return {
    ...spec,
    envs,
    setup: spec.setup === null ? null : maskText(spec.setup, secrets),
    run: spec.run === null ? null : maskText(spec.run, secrets),
    service: { ...spec.service, readiness_probe: { ...probe, headers, post_data } },
  };
}
