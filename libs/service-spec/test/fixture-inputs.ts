import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/** The SkyServe fixtures copied from ../shared/fixtures/skyserve-yaml (see SOURCES.md there). */
export const FIXTURE_DIR = join(import.meta.dirname, "data", "skyserve-yaml");

/**
 * Why each invalid fixture is rejected: the path of the issue that explains it. Their header
 * comments give an older SkyServe error; today's schema already refuses their renamed or
 * removed replica_policy keys (skyserve.md §1.1: additionalProperties false).
 */
export const INVALID_BECAUSE: Record<string, string> = {
  "tests__skyserve__policy__acc_in_any_of.yaml": "service.replica_policy.dynamic_on_demand_fallback",
  "tests__skyserve__policy__fields_in_any_of.yaml": "service.replica_policy.spot_policy",
  "tests__skyserve__policy__other_fields_in_any_of.yaml": "service.replica_policy.dynamic_on_demand_fallback",
};

/**
 * Files under valid/ that break a rule SkyServe enforces today, which Switchyard reports as a
 * warning (see crossFieldWarnings): they resolve, with this warning path. Upstream later added
 * `target_qps_per_replica: 10000` to this one (skypilot-org/skypilot@b3986498, same path).
 */
export const WARNS_AT: Record<string, string> = {
  "tests__skyserve__spot__base_ondemand_fallback.yaml": "service.replica_policy.target_qps_per_replica",
};

export interface FixtureInput {
  kind: "valid" | "invalid";
  file: string;
  path: string;
  yaml: string;
  /** A value ("x") for every env the YAML leaves empty, as `--env NAME=x` would give. */
  env: Record<string, string>;
  /** Likewise for the `secrets:` section (`--secret NAME=x`). */
  secrets: Record<string, string>;
}

function nullKeys(section: unknown): Record<string, string> {
  if (typeof section !== "object" || section === null) return {};
  return Object.fromEntries(
    Object.entries(section)
      .filter(([, v]) => v === null)
      .map(([k]) => [k, "x"]),
  );
}

export function fixtureInputs(kind: "valid" | "invalid"): FixtureInput[] {
  const dir = join(FIXTURE_DIR, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((file) => {
      const path = join(dir, file);
      const yaml = readFileSync(path, "utf8");
      const doc = parse(yaml) as Record<string, unknown>;
      return { kind, file, path, yaml, env: nullKeys(doc.envs), secrets: nullKeys(doc.secrets) };
    });
}
