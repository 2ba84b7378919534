// @pure: no I/O (tools/lint-boundaries checks it)
import { canonicalGpuName } from "../../inventory.js";

/**
 * How a cluster names a node's GPU type in a label (YARD_K8S_ACCELERATOR_LABEL), as SkyPilot's
 * GPU label formatters know them:
 * - gke: `cloud.google.com/gke-accelerator` = `nvidia-tesla-t4`, `nvidia-l4`, `nvidia-a100-80gb`,
 *   `nvidia-h100-80gb`… (set by GKE on every GPU node pool)
 * - eks: `k8s.amazonaws.com/accelerator` = the same values as GKE (the label EKS's GPU AMIs and
 *   the cluster autoscaler use)
 * - gfd: `nvidia.com/gpu.product` = the product name, e.g. `NVIDIA-A100-SXM4-80GB`,
 *   `NVIDIA-L4` (NVIDIA's GPU operator / GPU feature discovery); matched by the name it stands for
 * - skypilot: `skypilot.co/accelerator` = the lowercase name, `l4`, `a100-80gb` (labelled by hand
 *   or by SkyPilot's labelling job)
 * - none: no node selector; any node with free `nvidia.com/gpu` takes the replica
 * - any other value: a label key whose value is the accelerator's name as the spec writes it
 */
export type AcceleratorLabel =
  | { scheme: "gke" | "eks" | "gfd" | "skypilot"; key: string }
  | { scheme: "none"; key: null }
  | { scheme: "custom"; key: string };

export const ACCELERATOR_LABEL_KEYS = {
  gke: "cloud.google.com/gke-accelerator",
  eks: "k8s.amazonaws.com/accelerator",
  gfd: "nvidia.com/gpu.product",
  skypilot: "skypilot.co/accelerator",
} as const;

/** A Kubernetes label key: an optional DNS-subdomain prefix and a name of at most 63. */
const LABEL_KEY_RE =
  /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** YARD_K8S_ACCELERATOR_LABEL → its scheme; throws naming what is wrong. */
export function parseAcceleratorLabel(text: string): AcceleratorLabel {
  const t = text.trim();
  if (t === "none" || t === "") return { scheme: "none", key: null };
  if (t in ACCELERATOR_LABEL_KEYS) {
    const scheme = t as keyof typeof ACCELERATOR_LABEL_KEYS;
    return { scheme, key: ACCELERATOR_LABEL_KEYS[scheme] };
  }
  if (!LABEL_KEY_RE.test(t))
    throw new Error(`"${t}" is neither gke, eks, gfd, skypilot, none nor a Kubernetes label key`);
  return { scheme: "custom", key: t };
}

/** GKE's and EKS's value: `nvidia-tesla-<name>`, except the newer GPUs GKE names without "tesla". */
const GKE_SPECIAL: Record<string, string> = {
  L4: "nvidia-l4",
  "A100-80GB": "nvidia-a100-80gb",
  H100: "nvidia-h100-80gb",
  "H100-MEGA": "nvidia-h100-mega-80gb",
  H200: "nvidia-h200-141gb",
  B200: "nvidia-b200",
};

/**
 * The label values a node may carry for accelerator `name` (SkyPilot's name, e.g. `L4`).
 * `seen`: the values of the label found on the cluster's nodes, for the schemes whose values
 * cannot be derived from the name alone (gfd: the product name) — those of `seen` that stand for
 * `name` are returned.
 */
export function acceleratorLabelValues(
  label: AcceleratorLabel,
  name: string,
  seen: readonly string[],
): string[] {
  const upper = name.toUpperCase();
  switch (label.scheme) {
    case "none":
      return [];
    case "gke":
    case "eks":
      return [GKE_SPECIAL[upper] ?? `nvidia-tesla-${name.toLowerCase()}`];
    case "skypilot":
      return [name.toLowerCase()];
    case "custom":
      return [name];
    case "gfd":
      return seen.filter((v) => acceleratorOfLabel(label, v)?.toUpperCase() === upper);
  }
}

/** The accelerator name a node's label value stands for (for the inventory); null if none. */
export function acceleratorOfLabel(label: AcceleratorLabel, value: string): string | null {
  switch (label.scheme) {
    case "none":
      return null;
    case "gke":
    case "eks": {
      const special = Object.entries(GKE_SPECIAL).find(([, v]) => v === value);
      if (special) return special[0];
      const m = /^nvidia-tesla-(.+)$/.exec(value);
      return m ? m[1].toUpperCase() : null;
    }
    case "skypilot":
      return value.toUpperCase();
    case "custom":
      return value;
    case "gfd":
      // GFD writes nvidia-smi's product name with dashes for spaces.
      return canonicalGpuName(value.replace(/-/g, " "));
  }
}
