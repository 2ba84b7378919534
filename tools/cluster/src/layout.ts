// @pure: where the cluster's files live (the cache is kept across clusters, the state is not)

export const COMPONENTS = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubelet",
] as const;
export type Component = (typeof COMPONENTS)[number];

/** The binaries built from Debian's `kubernetes` source package (etcd comes from etcd-server). */
export const KUBE_BINARIES = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubelet",
  "kubectl",
] as const;

/**
 * The node's name, which is its address: a kubelet refuses a loopback --node-ip, but takes an IP
 * given as its hostname as the node's InternalIP unchecked, so the apiserver reaches it (logs,
 * exec) on 127.0.0.1 and the kubelet listens on loopback only.
 */
export const NODE_NAME = "127.0.0.1";
export const PAUSE_IMAGE = "switchyard.local/pause:3.2";
/**
 * The project's images (`pnpm images`). The kubelet uses dockerd's own image store (dockershim),
 * so they need no loading: pods name them with imagePullPolicy: Never.
 */
export const PROJECT_IMAGES = ["switchyard:local", "node:20-bookworm-slim", "nats:2.10-alpine"];
/** Docker's named runtime for the runc wrapper (files/runc-oomclamp), made the default. */
export const RUNTIME_NAME = "yard-oomclamp";
export const RUNTIME_PATH = "/usr/local/sbin/yard-runc-oomclamp";

/**
 * Labels of a node with the stand-in GPUs (`up --gpus N`), as the NVIDIA GPU operator
 * (gpu-feature-discovery) and GKE set them on real GPU nodes.
 */
export const GPU_LABELS = {
  "nvidia.com/gpu.present": "true",
  "nvidia.com/gpu.product": "Stand-in-GPU",
  "cloud.google.com/gke-accelerator": "stand-in-gpu",
} as const;

const join = (...parts: string[]) => parts.join("/").replace(/\/{2,}/g, "/");

export function cacheLayout(cacheDir: string) {
  const bin = join(cacheDir, "bin");
  return {
    dir: cacheDir,
    bin,
    binary: (name: string) => join(bin, name),
    /** The .dsc, .orig.tar.gz and .debian.tar.xz from `apt-get source --download-only`. */
    src: join(cacheDir, "src"),
    /** The unpacked source tree (dpkg-source -x), with `_output/bin` after `make`. */
    tree: join(cacheDir, "src", "tree"),
    /** Written last by a build: the binaries' version; its absence means "build again". */
    stamp: join(bin, "BUILT"),
    buildLog: join(cacheDir, "build.log"),
    lock: join(cacheDir, "build.lock"),
  };
}

export function stateLayout(stateDir: string) {
  const pki = join(stateDir, "pki");
  return {
    dir: stateDir,
    /** { component: { pid, startTime } } of what `up` started; `down` stops exactly these. */
    pids: join(stateDir, "pids.json"),
    /** The admin kubeconfig tests use (token of a system:masters user), mode 0600. */
    kubeconfig: join(stateDir, "kubeconfig"),
    log: (c: string) => join(stateDir, "logs", `${c}.log`),
    logs: join(stateDir, "logs"),
    etcdData: join(stateDir, "etcd"),
    kubeletRoot: join(stateDir, "kubelet"),
    kubeletConfig: join(stateDir, "kubelet-config.yaml"),
    kubeconfigOf: (who: string) => join(stateDir, `${who}.kubeconfig`),
    tokens: join(pki, "tokens.csv"),
    pki,
    ca: join(pki, "ca.crt"),
    caKey: join(pki, "ca.key"),
    cert: (name: string) => join(pki, `${name}.crt`),
    key: (name: string) => join(pki, `${name}.key`),
    saKey: join(pki, "sa.key"),
    saPub: join(pki, "sa.pub"),
    lock: join(stateDir, "up.lock"),
  };
}

export type CacheLayout = ReturnType<typeof cacheLayout>;
export type StateLayout = ReturnType<typeof stateLayout>;
