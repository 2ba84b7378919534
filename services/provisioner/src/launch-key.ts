import { createHash } from "node:crypto";
import type { ResolvedSpec } from "@switchyard/contracts";

/**
 * What a replica was launched from: everything but the `service:` section. Two revisions with
 * the same key differ only in serving settings (probe, replica count, LB policy), so running
 * replicas are kept and relabelled instead of relaunched (SkyServe does the same).
 */
export function launchKey(spec: ResolvedSpec): string {
  const { envs, setup, run, workdir, resources } = spec;
  const canon = JSON.stringify({ envs: sortKeys(envs), setup, run, workdir, resources });
  return createHash("sha256").update(canon).digest("hex");
}

function sortKeys(o: Record<string, string>): [string, string][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
