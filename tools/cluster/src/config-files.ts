// @pure: the token file, kubeconfigs and kubelet configuration of the local cluster
import { NODE_NAME, type StateLayout } from "./layout.js";

/** Who talks to the apiserver with a static token: user, groups (RBAC's default bindings apply). */
export const IDENTITIES = {
  admin: { user: "yard-admin", groups: ["system:masters"] },
  kubelet: { user: `system:node:${NODE_NAME}`, groups: ["system:nodes"] },
  "controller-manager": { user: "system:kube-controller-manager", groups: [] },
  scheduler: { user: "system:kube-scheduler", groups: [] },
} as const;
export type Identity = keyof typeof IDENTITIES;
export const IDENTITY_NAMES = Object.keys(IDENTITIES) as Identity[];

/** A token is 32 hex digits or more (random, from the caller): nothing in it needs quoting. */
const TOKEN = /^[0-9a-f]{32,}$/;

/** kube-apiserver's --token-auth-file: `token,user,uid,"group1,group2"` per line. */
export function tokenFile(tokens: Record<Identity, string>): string {
  return IDENTITY_NAMES.map((who) => {
    const t = tokens[who];
    if (!TOKEN.test(t)) throw new Error(`token for ${who} must be 32+ hex digits`);
    const { user, groups } = IDENTITIES[who];
    return `${t},${user},${user}${groups.length ? `,"${groups.join(",")}"` : ""}`;
  })
    .join("\n")
    .concat("\n");
}

/** A kubeconfig for one identity: the cluster's CA inline, its token inline (file mode 0600). */
export function kubeconfig(opts: { server: string; caPem: string; token: string; user: string }): string {
  if (!TOKEN.test(opts.token)) throw new Error("token must be 32+ hex digits");
  const ca = Buffer.from(opts.caPem).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: switchyard-local",
    "  cluster:",
    `    server: ${opts.server}`,
    `    certificate-authority-data: ${ca}`,
    "users:",
    `- name: ${opts.user}`,
    "  user:",
    `    token: ${opts.token}`,
    "contexts:",
    "- name: switchyard-local",
    "  context:",
    "    cluster: switchyard-local",
    `    user: ${opts.user}`,
    "    namespace: default",
    "current-context: switchyard-local",
    "",
  ].join("\n");
}

/**
 * The kubelet's KubeletConfiguration. It shares the machine's dockerd with everyone, so it must
 * not garbage-collect images it did not pull (imageGC thresholds at 100%) nor evict pods because
 * a shared disk is busy; it listens on loopback only, trusts client certificates of the cluster
 * CA and asks the apiserver (webhook) about everything else; no anonymous access.
 */
export function kubeletConfig(s: StateLayout): string {
  return `${JSON.stringify(
    {
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      address: "127.0.0.1",
      port: 10250,
      readOnlyPort: 0,
      healthzBindAddress: "127.0.0.1",
      healthzPort: 10248,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: s.ca },
      },
      authorization: { mode: "Webhook" },
      tlsCertFile: s.cert("kubelet"),
      tlsPrivateKeyFile: s.key("kubelet"),
      cgroupDriver: "cgroupfs",
      failSwapOn: false,
      // The VM refuses negative oom_score_adj (see files/runc-oomclamp); -999 for the kubelet itself fails.
      oomScoreAdj: 0,
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: { "memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%" },
      // No KUBE-* chains in the machine's iptables (no kube-proxy uses them; dockerd's are left alone).
      makeIPTablesUtilChains: false,
      clusterDomain: "cluster.local",
      resolvConf: "/etc/resolv.conf",
      // Status every 2 s instead of 10 s: a test sees a node or pod change sooner.
      nodeStatusUpdateFrequency: "2s",
    },
    null,
    2,
  )}\n`;
}
