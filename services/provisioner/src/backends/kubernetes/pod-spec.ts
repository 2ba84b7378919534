// @pure: no I/O (tools/lint-boundaries checks it)
import type { V1Affinity, V1Pod, V1Secret, V1Toleration } from "@kubernetes/client-node";
import type { ResolvedSpec } from "@switchyard/contracts";
import { buildReplicaEnv, RUNNER_SCRIPT, UNBUFFERED_OUTPUT } from "../replica-env.js";
import { type AcceleratorLabel, acceleratorLabelValues } from "./accelerator-labels.js";

/** Labels on every replica Pod and Secret: how a restarted provisioner finds (adopts) them. */
export const LABELS = {
  managedBy: "app.kubernetes.io/managed-by",
  service: "switchyard.dev/service",
  replica: "switchyard.dev/replica",
  revision: "switchyard.dev/revision",
} as const;
export const MANAGED_BY = "switchyard";
/** Selects every replica object of this provisioner. */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`;
/** The replica's port, for a provisioner that adopts the Pod. */
export const PORT_ANNOTATION = "switchyard.dev/port";
export const GPU_RESOURCE = "nvidia.com/gpu";
/** The one container of a replica Pod. */
export const CONTAINER = "replica";

/** Where the replica's scripts and runner state live inside its Pod. */
const REPLICA_DIR = "/yard/replica";
const SPEC_DIR = "/yard/spec";

export interface PodOptions {
  /** YARD_K8S_IMAGE: the image of a spec without `image_id: docker:…`. */
  defaultImage: string;
  imagePullPolicy: "Always" | "IfNotPresent" | "Never";
  /** YARD_K8S_HOST_NETWORK: the replica listens on its node's address (tests: loopback). */
  hostNetwork: boolean;
  acceleratorLabel: AcceleratorLabel;
  /** `use_spot: true` → these (YARD_K8S_SPOT_NODE_SELECTOR, YARD_K8S_SPOT_TOLERATIONS). */
  spotNodeSelector: Readonly<Record<string, string>>;
  spotTolerations: readonly V1Toleration[];
  terminationGraceSeconds: number;
}

export interface PodInput {
  service: string;
  id: number;
  revision: number;
  spec: ResolvedSpec;
  port: number;
  /** The accelerator the provisioner placed it on (name, GPU count); null = CPU. */
  accelerator: { name: string; count: number } | null;
  /** Values of the accelerator label seen on the cluster's nodes (for the gfd scheme). */
  seenLabelValues: readonly string[];
}

export const podName = (service: string, id: number) => `yard-${service}-${id}`;
export const secretName = (service: string, id: number) => `yard-${service}-${id}-env`;

/** The key of a spec env var in the replica's Secret (a Secret key allows `.`, an env name none). */
const envKey = (name: string) => `env.${name}`;

/**
 * The container's command: the local backend's runner (setup with `set -e`, then run; marks
 * `run.started`, records the exit status) under a wrapper made for a container, where bash is
 * PID 1 and the kubelet signals only it: SIGTERM is passed on to every process of the Pod, and
 * the runner's exit status ("setup 1", "run 137") becomes the container's termination message,
 * which tells the provisioner which script ended it.
 */
export const POD_COMMAND = `d="$YARD_REPLICA_DIR"
mkdir -p "$d" && cp ${SPEC_DIR}/setup.sh ${SPEC_DIR}/run.sh "$d"/ || exit 1
cd "$d" || exit 1
bash -c "$0" &
r=$!
trap 'trap "" TERM; kill -TERM 0' TERM
wait "$r"
code=$?
while kill -0 "$r" 2>/dev/null; do wait "$r"; code=$?; done
cat "$d/exit.status" > /dev/termination-log 2>/dev/null
exit "$code"
`;

/** `image_id: docker:<image>` → the image; anything else (unset, a per-region map) → null. */
export function specImage(spec: ResolvedSpec): string | null {
  const v = spec.resources.other.image_id;
  if (typeof v !== "string" || !v.startsWith("docker:")) return null;
  const image = v.slice("docker:".length).trim();
  return image || null;
}

/** SkyPilot's `cpus: 4` / `"4+"` and `memory: 16` / `"16+"` (GB) → the request's quantity; null if unset or unreadable. */
export function minimum(v: unknown): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\+?\s*$/.exec(String(v ?? ""));
  return m && Number(m[1]) > 0 ? Number(m[1]) : null;
}

/**
 * The replica's Secret: every env var of its spec (secret or not: no env value is written into
 * the Pod, where `kubectl get pod -o yaml` would show it) and its setup and run scripts.
 */
export function buildSecret(input: PodInput): V1Secret {
  const stringData: Record<string, string> = {
    "setup.sh": input.spec.setup ?? "",
    "run.sh": input.spec.run ?? "",
  };
  for (const [k, v] of Object.entries(input.spec.envs)) stringData[envKey(k)] = v;
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: secretName(input.service, input.id), labels: labels(input) },
    type: "Opaque",
    stringData,
  };
}

/** The replica's Pod: one container running setup then run, its env values from the Secret. */
export function buildPod(input: PodInput, o: PodOptions): V1Pod {
  const { service, id, spec, port, accelerator } = input;
  const secret = secretName(service, id);
  const specEnvs = Object.keys(spec.envs);
  // The provisioner's own variables, as the local backend sets them; PATH stays the image's.
  const own = buildReplicaEnv({
    base: {},
    specEnvs: {},
    service,
    id,
    port,
    gpuIndices: [],
    dir: REPLICA_DIR,
    extraPath: [],
  });
  delete own.PATH;
  // The device plugin shows a replica its own GPUs only; a CPU replica sees none.
  if (accelerator) delete own.CUDA_VISIBLE_DEVICES;
  const defaults = Object.entries(UNBUFFERED_OUTPUT).filter(([k]) => !specEnvs.includes(k) && !(k in own));
  const requests: Record<string, string> = {};
  const cpus = minimum(spec.resources.other.cpus);
  const memory = minimum(spec.resources.other.memory);
  if (cpus !== null) requests.cpu = String(cpus);
  if (memory !== null) requests.memory = `${memory}Gi`;
  const limits: Record<string, string> = {};
  if (accelerator) limits[GPU_RESOURCE] = String(Math.max(1, Math.ceil(accelerator.count)));

  const nodeSelector: Record<string, string> = {};
  const tolerations: V1Toleration[] = [];
  let affinity: V1Affinity | null = null;
  if (accelerator && o.acceleratorLabel.key) {
    const values = acceleratorLabelValues(o.acceleratorLabel, accelerator.name, input.seenLabelValues);
    const key = o.acceleratorLabel.key;
    if (values.length > 1)
      affinity = {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key, operator: "In", values }] }],
          },
        },
      };
    // No node has it (gfd): select its name, so the scheduler says no node matches.
    else nodeSelector[key] = values[0] ?? accelerator.name;
  }
  if (spec.resources.other.use_spot === true) {
    Object.assign(nodeSelector, o.spotNodeSelector);
    tolerations.push(...o.spotTolerations);
  }

  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: podName(service, id),
      labels: labels(input),
      annotations: { [PORT_ANNOTATION]: String(port) },
    },
    spec: {
      restartPolicy: "Never",
      hostNetwork: o.hostNetwork,
      ...(o.hostNetwork ? { dnsPolicy: "ClusterFirstWithHostNet" } : {}),
      // A replica runs user code: no API credentials, no other services' addresses in its env.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: o.terminationGraceSeconds,
      ...(Object.keys(nodeSelector).length ? { nodeSelector } : {}),
      ...(tolerations.length ? { tolerations } : {}),
      ...(affinity ? { affinity } : {}),
      volumes: [
        { name: "replica", emptyDir: {} },
        {
          name: "spec",
          secret: {
            secretName: secret,
            items: [
              { key: "setup.sh", path: "setup.sh" },
              { key: "run.sh", path: "run.sh" },
            ],
          },
        },
      ],
      containers: [
        {
          name: CONTAINER,
          image: specImage(spec) ?? o.defaultImage,
          imagePullPolicy: o.imagePullPolicy,
          command: ["bash", "-c", POD_COMMAND, RUNNER_SCRIPT],
          env: [
            ...defaults.map(([name, value]) => ({ name, value })),
            ...specEnvs.map((name) => ({
              name,
              valueFrom: { secretKeyRef: { name: secret, key: envKey(name) } },
            })),
            ...Object.entries(own).map(([name, value]) => ({ name, value })),
          ],
          ports: [{ name: "http", containerPort: port, protocol: "TCP" }],
          resources: {
            ...(Object.keys(requests).length ? { requests } : {}),
            ...(Object.keys(limits).length ? { limits } : {}),
          },
          volumeMounts: [
            { name: "replica", mountPath: REPLICA_DIR },
            { name: "spec", mountPath: SPEC_DIR, readOnly: true },
          ],
          // The runner marks the start of `run` (setup done): the container's `started` turns
          // true, which the provisioner's watch sees (STARTING). Setup may take as long as it takes.
          startupProbe: {
            exec: { command: ["/bin/sh", "-c", `test -e ${REPLICA_DIR}/run.started`] },
            periodSeconds: 1,
            failureThreshold: 2_000_000_000,
          },
          terminationMessagePolicy: "File",
        },
      ],
    },
  };
}

function labels(input: PodInput): Record<string, string> {
  return {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.service]: input.service,
    [LABELS.replica]: String(input.id),
    [LABELS.revision]: String(input.revision),
  };
}
