import { AggregatorRegistry, type Registry } from "prom-client";
import type { RoutesView } from "./routes-view.js";

/** What the cluster primary asks a worker over node:cluster IPC. */
export type ToWorker = { type: "routes"; id: number };
/** What a worker tells the primary: it loaded its snapshots, or here are its routes. */
export type ToPrimary = { type: "ready" } | { type: "routes"; id: number; view: RoutesView };

/**
 * The worker's side of YARD_PROXY_WORKERS (the primary is primary.ts): answer the primary's
 * /metrics scrapes (prom-client's own IPC) and its /-/routes questions, then say ready. Call
 * once the data plane listens.
 */
export function serveClusterWorker(routes: () => RoutesView, registry: Registry): void {
  // Constructing one installs prom-client's worker-side listener for the primary's scrapes.
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry();
  process.on("message", (m: ToWorker) => {
    if (m?.type === "routes") send({ type: "routes", id: m.id, view: routes() });
  });
  send({ type: "ready" });
}

function send(m: ToPrimary): void {
  process.send?.(m);
}
