// @pure: each component's command line (paths only: no token or key material in argv)
import { type CacheLayout, type Component, NODE_NAME, PAUSE_IMAGE, type StateLayout } from "./layout.js";
import { SERVICE_CIDR } from "./pki-plan.js";

export interface Ports {
  api: number;
  etcd: number;
}

export const etcdPeerPort = (etcd: number) => etcd + 10;
export const apiServer = (p: Ports) => `https://127.0.0.1:${p.api}`;

/** The program and arguments of `c`; everything binds to 127.0.0.1. */
export function commandLine(c: Component, cache: CacheLayout, s: StateLayout, p: Ports): [string, string[]] {
  const etcdUrl = `https://127.0.0.1:${p.etcd}`;
  const peerUrl = `http://127.0.0.1:${etcdPeerPort(p.etcd)}`;
  switch (c) {
    case "etcd":
      return [
        "etcd",
        [
          "--name=switchyard",
          `--data-dir=${s.etcdData}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=${peerUrl}`,
          `--initial-advertise-peer-urls=${peerUrl}`,
          `--initial-cluster=switchyard=${peerUrl}`,
          "--initial-cluster-state=new",
          // Clients need a certificate of the cluster CA: a local user cannot bypass RBAC via etcd.
          "--client-cert-auth",
          `--trusted-ca-file=${s.ca}`,
          `--cert-file=${s.cert("etcd")}`,
          `--key-file=${s.key("etcd")}`,
          "--log-level=warn",
        ],
      ];
    case "kube-apiserver":
      return [
        cache.binary("kube-apiserver"),
        [
          `--etcd-servers=${etcdUrl}`,
          `--etcd-cafile=${s.ca}`,
          `--etcd-certfile=${s.cert("apiserver-etcd-client")}`,
          `--etcd-keyfile=${s.key("apiserver-etcd-client")}`,
          "--bind-address=127.0.0.1",
          "--advertise-address=127.0.0.1",
          // The `kubernetes` Service's endpoint would be 127.0.0.1, which Endpoints may not hold.
          "--endpoint-reconciler-type=none",
          `--secure-port=${p.api}`,
          "--insecure-port=0",
          `--tls-cert-file=${s.cert("apiserver")}`,
          `--tls-private-key-file=${s.key("apiserver")}`,
          `--client-ca-file=${s.ca}`,
          `--token-auth-file=${s.tokens}`,
          "--anonymous-auth=false",
          "--authorization-mode=Node,RBAC",
          "--enable-admission-plugins=NodeRestriction",
          `--service-account-key-file=${s.saPub}`,
          `--service-account-signing-key-file=${s.saKey}`,
          "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
          `--service-cluster-ip-range=${SERVICE_CIDR}`,
          `--kubelet-client-certificate=${s.cert("apiserver-kubelet-client")}`,
          `--kubelet-client-key=${s.key("apiserver-kubelet-client")}`,
          `--kubelet-certificate-authority=${s.ca}`,
          "--kubelet-preferred-address-types=InternalIP",
          "--allow-privileged=true",
          "--profiling=false",
        ],
      ];
    case "kube-controller-manager":
      return [
        cache.binary("kube-controller-manager"),
        controlLoopFlags(s.kubeconfigOf("controller-manager"), [
          "--use-service-account-credentials=true",
          `--service-account-private-key-file=${s.saKey}`,
          `--root-ca-file=${s.ca}`,
          `--service-cluster-ip-range=${SERVICE_CIDR}`,
        ]),
      ];
    case "kube-scheduler":
      return [cache.binary("kube-scheduler"), controlLoopFlags(s.kubeconfigOf("scheduler"), [])];
    case "kubelet":
      return [
        cache.binary("kubelet"),
        [
          `--kubeconfig=${s.kubeconfigOf("kubelet")}`,
          `--config=${s.kubeletConfig}`,
          `--root-dir=${s.kubeletRoot}`,
          `--cert-dir=${s.pki}`,
          "--container-runtime=docker",
          "--docker-endpoint=unix:///var/run/docker.sock",
          `--pod-infra-container-image=${PAUSE_IMAGE}`,
          `--hostname-override=${NODE_NAME}`,
        ],
      ];
  }
}

/**
 * kube-controller-manager and kube-scheduler are both control loops that talk only to the API
 * server: one kubeconfig for it and for its authn/authz delegation, serving on loopback with no
 * insecure port, no election (one of each) and no profiling. `extra` is what only one needs.
 */
function controlLoopFlags(kubeconfig: string, extra: string[]): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    "--port=0",
    "--leader-elect=false",
    ...extra,
    "--profiling=false",
  ];
}
