// @pure: the certificates of the local cluster (who each is, what it may be used for)
import { NODE_NAME } from "./layout.js";

export interface CertSpec {
  /** File name in the pki dir: `<name>.crt` / `<name>.key`. */
  name: string;
  /** Subject CN (a client certificate's user), O (its groups). */
  cn: string;
  o?: string;
  /** subjectAltName entries, `IP:…` / `DNS:…` (a serving certificate's names). */
  sans: string[];
  usage: "server" | "client" | "both";
}

/** The first address of the service range: the `kubernetes` Service's ClusterIP. */
export const SERVICE_CIDR = "10.96.0.0/16";
export const API_SERVICE_IP = "10.96.0.1";

const LOOPBACK = ["IP:127.0.0.1", "DNS:localhost"];

export const CERTS: readonly CertSpec[] = [
  { name: "etcd", cn: "etcd", sans: LOOPBACK, usage: "both" },
  { name: "apiserver-etcd-client", cn: "kube-apiserver-etcd-client", sans: [], usage: "client" },
  {
    name: "apiserver",
    cn: "kube-apiserver",
    sans: [
      ...LOOPBACK,
      `IP:${API_SERVICE_IP}`,
      "DNS:kubernetes",
      "DNS:kubernetes.default",
      "DNS:kubernetes.default.svc",
      "DNS:kubernetes.default.svc.cluster.local",
    ],
    usage: "server",
  },
  // The apiserver's identity at the kubelet (logs, exec, port-forward): system:masters, so the
  // kubelet's webhook authorization allows it without a binding.
  {
    name: "apiserver-kubelet-client",
    cn: "kube-apiserver-kubelet-client",
    o: "system:masters",
    sans: [],
    usage: "client",
  },
  {
    name: "kubelet",
    cn: `system:node:${NODE_NAME}`,
    sans: LOOPBACK,
    usage: "server",
  },
];

/** The `openssl x509 -extfile` text for a spec. */
export function extensions(spec: CertSpec): string {
  const eku = { server: "serverAuth", client: "clientAuth", both: "serverAuth,clientAuth" }[spec.usage];
  const lines = [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    `extendedKeyUsage=${eku}`,
  ];
  if (spec.sans.length) lines.push(`subjectAltName=${spec.sans.join(",")}`);
  return `${lines.join("\n")}\n`;
}

/** The `-subj` of a spec; names are fixed above, so no escaping is needed (checked by a test). */
export function subject(spec: Pick<CertSpec, "cn" | "o">): string {
  return spec.o ? `/O=${spec.o}/CN=${spec.cn}` : `/CN=${spec.cn}`;
}
