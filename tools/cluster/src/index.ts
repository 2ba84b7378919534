import { DEFAULT_STATE } from "./options.js";
import { clusterStatus } from "./status.js";

export { GPU_LABELS, NODE_NAME, PAUSE_IMAGE } from "./layout.js";

export type ClusterAvailability = { ok: true; kubeconfig: string } | { ok: false; reason: string };

/**
 * For e2e suites: the local cluster's admin kubeconfig when `pnpm cluster up` has it running
 * (every component alive, API answering, node Ready), else why not and how to run the suite.
 * Reads YARD_CLUSTER_STATE like the tool; takes a few milliseconds when the cluster is down.
 *
 *   const cluster = await clusterAvailable();
 *   if (!cluster.ok) console.warn(`skipped: ${cluster.reason}`);
 *   describe.skipIf(!cluster.ok)("on the local cluster", ...)
 */
export async function clusterAvailable(env: NodeJS.ProcessEnv = process.env): Promise<ClusterAvailability> {
  const stateDir = env.YARD_CLUSTER_STATE || DEFAULT_STATE;
  const st = await clusterStatus({ stateDir });
  if (st.up) return { ok: true, kubeconfig: st.kubeconfig };
  return {
    ok: false,
    reason: `the local Kubernetes cluster is not up (${st.why}); to run this suite: pnpm cluster up (needs root and dockerd; docs/cluster.md)`,
  };
}
