import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/** The SkyServe fixtures, a byte-for-byte copy of ../shared/fixtures/skyserve-yaml (see SOURCES.md). */
export const FIXTURE_DIR = join(import.meta.dirname, "data", "skyserve-yaml");

/**
 * Why each invalid fixture is rejected: the path of the issue that explains it. The policy/ files'
 * header comments give an older SkyServe error; today's schema already refuses their renamed or
 * removed replica_policy keys (skyserve.md §1.1: additionalProperties false). The spot/ file sets
 * min_replicas ≠ max_replicas without target_qps_per_replica, which SkyServe refuses (§1.2;
 * upstream later added a QPS target to it, skypilot-org/skypilot@b3986498).
 */
export const INVALID_BECAUSE: Record<string, string> = {
  "tests__skyserve__policy__acc_in_any_of.yaml": "service.replica_policy.dynamic_on_demand_fallback",
  "tests__skyserve__policy__fields_in_any_of.yaml": "service.replica_policy.spot_policy",
  "tests__skyserve__policy__other_fields_in_any_of.yaml": "service.replica_policy.dynamic_on_demand_fallback",
  "tests__skyserve__spot__base_ondemand_fallback.yaml": "service.replica_policy",
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
