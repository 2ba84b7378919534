import { bool } from "@switchyard/runtime";
import { z } from "zod";
import { parseAcceleratorLabel } from "./accelerator-labels.js";
import { parseNodeSelector, parseTolerations } from "./options.js";

/** A string env var checked at start by `parse`, whose error names what is wrong. */
const checked = (def: string, parse: (s: string) => unknown) =>
  z
    .string()
    .default(def)
    .superRefine((s, ctx) => {
      try {
        parse(s);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
      }
    });

/**
 * The kubernetes backend's env vars (YARD_BACKEND=kubernetes; README table). The cluster and
 * credentials come from the usual places: KUBECONFIG, ~/.kube/config, or the Pod's service
 * account when the provisioner runs in the cluster.
 */
export const KubernetesEnv = {
  /** Namespace of the replica Pods and Secrets; unset: the kubeconfig context's, else `default`. */
  YARD_K8S_NAMESPACE: z.string().optional(),
  /** Image of a replica whose spec has no `image_id: docker:<image>`. */
  YARD_K8S_IMAGE: z.string().min(1).default("switchyard:local"),
  YARD_K8S_IMAGE_PULL_POLICY: z.enum(["Always", "IfNotPresent", "Never"]).default("IfNotPresent"),
  /** Replicas on their node's network (their URL is the node's address); tests keep them on loopback so. */
  YARD_K8S_HOST_NETWORK: bool(false),
  /** How nodes name their GPU type: gke, eks, gfd, skypilot, none, or a label key. */
  YARD_K8S_ACCELERATOR_LABEL: checked("none", parseAcceleratorLabel),
  /** `use_spot: true` replicas get this node selector (`key=value,…`) … */
  YARD_K8S_SPOT_NODE_SELECTOR: checked("", parseNodeSelector),
  /** … and these tolerations (`key[=value][:Effect],…`). */
  YARD_K8S_SPOT_TOLERATIONS: checked("", parseTolerations),
};
