// @pure: what `pnpm cluster` was asked to do, from its arguments and env vars

/**
 * | env                     | default                          | meaning                                   |
 * | YARD_CLUSTER_CACHE      | /var/cache/switchyard/kubernetes | built binaries, Debian source, runc wrapper |
 * | YARD_CLUSTER_STATE      | /run/switchyard/cluster          | pids, logs, certs, tokens, etcd, kubeconfig |
 * | YARD_CLUSTER_API_PORT   | 6443                             | kube-apiserver on 127.0.0.1               |
 * | YARD_CLUSTER_ETCD_PORT  | 23790                            | etcd clients on 127.0.0.1 (peer: +10)      |
 * | YARD_CLUSTER_GPUS       | 0                                | nvidia.com/gpu the node advertises (a stand-in: no device) |
 * | YARD_CLUSTER_TIMEOUT_S  | 180                              | how long `up` waits for each component    |
 */
export type Command = "up" | "down" | "status" | "build";

export interface ClusterOptions {
  command: Command;
  cacheDir: string;
  stateDir: string;
  apiPort: number;
  etcdPort: number;
  gpus: number;
  timeoutMs: number;
  /** `status --quiet`: no output, only the exit code (0 running, 3 not). */
  quiet: boolean;
  help: boolean;
}

export type Parsed = { ok: true; options: ClusterOptions } | { ok: false; error: string };

export const DEFAULT_CACHE = "/var/cache/switchyard/kubernetes";
export const DEFAULT_STATE = "/run/switchyard/cluster";

export const USAGE = `Usage: pnpm cluster up|down|status|build [--gpus N] [--quiet] [--help]

A local Kubernetes 1.20 test cluster on this machine (a test harness, not a production cluster;
see docs/cluster.md). Needs root, a running dockerd, and Debian's apt sources.

  build    build the Kubernetes binaries from Debian's source package into the cache (once;
           'up' does it when they are missing: ~10 min on 2 cores)
  up       start etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a kubelet
           (Docker via dockershim), wait for the node to be Ready, print the kubeconfig path.
           Does nothing when the cluster is already up.
  down     stop everything 'up' started, remove the pods' containers and the cluster's state
  status   what runs, the kubeconfig path, the node; exit 0 when up, 3 when not
           (--quiet: only the exit code)

  --gpus N  the node advertises N nvidia.com/gpu (a stand-in: there is no device) and the
            accelerator labels; default YARD_CLUSTER_GPUS or 0

Env: YARD_CLUSTER_CACHE (${DEFAULT_CACHE}), YARD_CLUSTER_STATE (${DEFAULT_STATE}),
YARD_CLUSTER_API_PORT (6443), YARD_CLUSTER_ETCD_PORT (23790), YARD_CLUSTER_GPUS (0),
YARD_CLUSTER_TIMEOUT_S (180).`;

const COMMANDS: readonly string[] = ["up", "down", "status", "build"];

function intVar(
  raw: string | undefined,
  name: string,
  def: number,
  min: number,
  max: number,
): number | string {
  if (raw === undefined || raw === "") return def;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < min || n > max)
    return `${name} must be an integer from ${min} to ${max} (got "${raw}")`;
  return n;
}

function dirVar(raw: string | undefined, name: string, def: string): string | { error: string } {
  if (raw === undefined || raw === "") return def;
  if (!raw.startsWith("/") || raw.includes("\n")) return { error: `${name} must be an absolute path` };
  if (raw.replace(/\/+$/, "") === "") return { error: `${name} must not be /` };
  return raw.replace(/\/+$/, "");
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Parsed {
  let command: string | undefined;
  let gpusRaw = env.YARD_CLUSTER_GPUS;
  let quiet = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") help = true;
    else if (a === "--quiet" || a === "-q") quiet = true;
    else if (a === "--gpus") {
      if (i + 1 >= argv.length) return { ok: false, error: "--gpus needs a number" };
      gpusRaw = argv[++i];
    } else if (a.startsWith("--gpus=")) gpusRaw = a.slice("--gpus=".length);
    else if (a.startsWith("-")) return { ok: false, error: `unknown option ${a}\n\n${USAGE}` };
    else if (command === undefined) command = a;
    else return { ok: false, error: `unexpected argument ${a}\n\n${USAGE}` };
  }
  if (help) command ??= "status";
  if (command === undefined) return { ok: false, error: USAGE };
  if (!COMMANDS.includes(command)) return { ok: false, error: `unknown command ${command}\n\n${USAGE}` };

  const cacheDir = dirVar(env.YARD_CLUSTER_CACHE, "YARD_CLUSTER_CACHE", DEFAULT_CACHE);
  const stateDir = dirVar(env.YARD_CLUSTER_STATE, "YARD_CLUSTER_STATE", DEFAULT_STATE);
  const apiPort = intVar(env.YARD_CLUSTER_API_PORT, "YARD_CLUSTER_API_PORT", 6443, 1, 65535);
  const etcdPort = intVar(env.YARD_CLUSTER_ETCD_PORT, "YARD_CLUSTER_ETCD_PORT", 23790, 1, 65525);
  const gpus = intVar(gpusRaw, "--gpus / YARD_CLUSTER_GPUS", 0, 0, 64);
  const timeoutS = intVar(env.YARD_CLUSTER_TIMEOUT_S, "YARD_CLUSTER_TIMEOUT_S", 180, 1, 3600);
  for (const v of [cacheDir, stateDir]) if (typeof v === "object") return { ok: false, error: v.error };
  for (const v of [apiPort, etcdPort, gpus, timeoutS])
    if (typeof v === "string") return { ok: false, error: v };
  if (apiPort === etcdPort || apiPort === (etcdPort as number) + 10)
    return { ok: false, error: "YARD_CLUSTER_API_PORT must differ from etcd's ports" };
  return {
    ok: true,
    options: {
      command: command as Command,
      cacheDir: cacheDir as string,
      stateDir: stateDir as string,
      apiPort: apiPort as number,
      etcdPort: etcdPort as number,
      gpus: gpus as number,
      timeoutMs: (timeoutS as number) * 1000,
      quiet,
      help,
    },
  };
}
