import { existsSync, readFileSync } from "node:fs";
import { kubeRequest } from "./kube.js";
import { readAccess } from "./kubeconfig-read.js";
import { COMPONENTS, NODE_NAME, stateLayout } from "./layout.js";
import { nodeReady } from "./node-state.js";
import type { ClusterOptions } from "./options.js";
import { readPids, running } from "./procs.js";

export interface Status {
  up: boolean;
  kubeconfig: string;
  components: { name: string; pid: number | null; running: boolean }[];
  /** "Ready", "not ready: …", or why the node could not be read. */
  node: string;
  /** Why it is not up, when it is not. */
  why?: string;
}

/** What runs; up = every component running, the API answering and the node Ready. */
export async function clusterStatus(o: Pick<ClusterOptions, "stateDir">): Promise<Status> {
  const s = stateLayout(o.stateDir);
  const pids = readPids(s);
  const components = COMPONENTS.map((name) => {
    const p = pids.find((x) => x.name === name);
    return { name, pid: p?.pid ?? null, running: p ? running(p) : false };
  });
  const base = { kubeconfig: s.kubeconfig, components };
  const stopped = components.filter((c) => !c.running).map((c) => c.name);
  if (stopped.length === COMPONENTS.length) return { ...base, up: false, node: "-", why: "not running" };
  if (stopped.length) return { ...base, up: false, node: "-", why: `not running: ${stopped.join(", ")}` };
  if (!existsSync(s.kubeconfig)) return { ...base, up: false, node: "-", why: `no ${s.kubeconfig}` };
  const access = readAccess(readFileSync(s.kubeconfig, "utf8"));
  if (!access) return { ...base, up: false, node: "-", why: `${s.kubeconfig} is not this tool's` };
  try {
    const r = await kubeRequest(access, "GET", `/api/v1/nodes/${NODE_NAME}`, { timeoutMs: 3000 });
    if (r.status !== 200)
      return { ...base, up: false, node: `HTTP ${r.status}`, why: `node ${NODE_NAME}: HTTP ${r.status}` };
    const ready = nodeReady(JSON.parse(r.body));
    const node = ready.ready ? "Ready" : `not ready: ${ready.why}`;
    return ready.ready ? { ...base, up: true, node } : { ...base, up: false, node, why: `node ${node}` };
  } catch (err) {
    return { ...base, up: false, node: "-", why: `API: ${(err as Error).message}` };
  }
}
