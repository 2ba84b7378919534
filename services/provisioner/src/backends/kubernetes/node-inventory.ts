// @pure: no I/O (tools/lint-boundaries checks it)
import type { V1Node } from "@kubernetes/client-node";
import type { Gpu } from "../../inventory.js";
import { type AcceleratorLabel, acceleratorOfLabel } from "./accelerator-labels.js";
import { GPU_RESOURCE } from "./pod-spec.js";

/** A GPU of a node whose type label is missing or unknown: a spec may ask for `GPU:<n>`. */
export const UNLABELLED_GPU = "GPU";

/**
 * The cluster's GPUs as the provisioner's inventory: each schedulable, Ready node's allocatable
 * `nvidia.com/gpu`, named by its accelerator label (YARD_K8S_ACCELERATOR_LABEL). Indices only
 * count them: the scheduler, not the provisioner, picks the node and the device plugin the GPUs.
 */
export function nodeInventory(nodes: readonly V1Node[], label: AcceleratorLabel): Gpu[] {
  const out: Gpu[] = [];
  for (const n of nodes) {
    if (n.spec?.unschedulable) continue;
    const ready = n.status?.conditions?.find((c) => c.type === "Ready");
    if (ready?.status !== "True") continue;
    const count = Number.parseInt(String(n.status?.allocatable?.[GPU_RESOURCE] ?? "0"), 10);
    if (!(count > 0)) continue;
    const value = label.key ? n.metadata?.labels?.[label.key] : undefined;
    const name = (value !== undefined ? acceleratorOfLabel(label, value) : null) ?? UNLABELLED_GPU;
    for (let i = 0; i < count; i++) out.push({ index: out.length, name });
  }
  return out;
}

/** The values of the accelerator label on the nodes (the gfd scheme selects among them). */
export function labelValues(nodes: readonly V1Node[], label: AcceleratorLabel): string[] {
  if (!label.key) return [];
  const key = label.key;
  return [...new Set(nodes.map((n) => n.metadata?.labels?.[key]).filter((v): v is string => !!v))];
}
