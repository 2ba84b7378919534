// @pure: no I/O (tools/lint-boundaries checks it)
import type { ResolvedSpec } from "@switchyard/contracts";

/** Labels on every container the docker backend creates (never a secret in them). */
export const LABEL = {
  /** The provisioner's scope (a hash of its YARD_STATE_DIR): it lists and adopts only these. */
  scope: "dev.switchyard.scope",
  service: "dev.switchyard.service",
  replica: "dev.switchyard.replica",
  revision: "dev.switchyard.revision",
} as const;

/** Where the replica's box (scripts, markers) and env file are mounted in the container. */
export const BOX_IN_CONTAINER = "/yard";
export const ENV_IN_CONTAINER = "/run/yard/replica.env";

export type ImageChoice = { ok: true; image: string } | { ok: false; message: string };

/**
 * The image of a replica: SkyPilot's `image_id: docker:<image>` (resources.image_id), else the
 * configured default. Any other image_id (a cloud image, a per-region mapping) means nothing to
 * this backend and fails the launch, saying so.
 */
export function chooseImage(imageId: unknown, defaultImage: string | undefined): ImageChoice {
  if (imageId === undefined || imageId === null) {
    if (defaultImage) return { ok: true, image: defaultImage };
    return {
      ok: false,
      message:
        "no container image: the spec has no resources.image_id (docker:<image>) and YARD_DOCKER_IMAGE is unset",
    };
  }
  if (typeof imageId === "string" && imageId.startsWith("docker:")) {
    const image = imageId.slice("docker:".length).trim();
    if (/^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/.test(image)) return { ok: true, image };
    return { ok: false, message: `resources.image_id docker:${image.slice(0, 80)} is not an image name` };
  }
  return {
    ok: false,
    message: "resources.image_id is not docker:<image>: the docker backend runs only container images",
  };
}

/** The container's name: one per replica and scope, so that the engine itself refuses a duplicate. */
export function containerName(scope: string, service: string, id: number): string {
  return `yard-${scope}-${service}-${id}`;
}

/**
 * The env file the entry script sources (`set -a; . file`): one `NAME='value'` line each,
 * single-quoted so that no value is ever run. Names that are not shell identifiers are left out
 * (the spec's schema already refuses them).
 */
export function envFileText(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
    .map(([k, v]) => `${k}='${v.replaceAll("'", "'\\''")}'\n`)
    .join("");
}

/**
 * PID 1's child in the container (docker-init is PID 1): it reads the env file, runs the common
 * runner (setup, then run; markers in the box), and on SIGTERM (docker stop) passes the signal
 * to every process of the container, as the local backend signals a process group.
 */
export const ENTRY_SCRIPT = `set -a
. ${ENV_IN_CONTAINER}
set +a
trap 'trap "" TERM INT; kill -TERM 0 2>/dev/null' TERM INT
bash ${BOX_IN_CONTAINER}/runner.sh &
child=$!
wait "$child"
code=$?
while kill -0 "$child" 2>/dev/null; do wait "$child"; code=$?; done
exit "$code"
`;

export interface ContainerInput {
  scope: string;
  service: string;
  id: number;
  revision: number;
  image: string;
  /** Host paths mounted into the container. */
  boxDir: string;
  envFile: string;
  network: string;
  /** `uid:gid` the replica runs as: the provisioner's, so that it can read its box and env file (0600/0700). */
  user: string;
  gpuDriver: "nvidia" | "none";
  gpuIndices: readonly number[];
  spec: ResolvedSpec;
}

/**
 * The Docker API's create body. Secrets are in none of it: no Env (the resolved envs are in
 * the env file, mounted read-only, which `docker inspect` does not show), a fixed Cmd, labels
 * naming only the service, replica and revision.
 */
export function containerCreateOptions(c: ContainerInput) {
  const gpus =
    c.gpuIndices.length > 0 && c.gpuDriver !== "none"
      ? [{ Driver: c.gpuDriver, DeviceIDs: c.gpuIndices.map(String), Capabilities: [["gpu"]] }]
      : [];
  return {
    name: containerName(c.scope, c.service, c.id),
    Image: c.image,
    User: c.user,
    Entrypoint: ["bash"],
    Cmd: [`${BOX_IN_CONTAINER}/entry.sh`],
    Env: [],
    WorkingDir: BOX_IN_CONTAINER,
    Labels: {
      [LABEL.scope]: c.scope,
      [LABEL.service]: c.service,
      [LABEL.replica]: String(c.id),
      [LABEL.revision]: String(c.revision),
    },
    HostConfig: {
      NetworkMode: c.network,
      // docker-init as PID 1 reaps what the replica leaves and forwards docker stop's SIGTERM.
      Init: true,
      Binds: [`${c.boxDir}:${BOX_IN_CONTAINER}`, `${c.envFile}:${ENV_IN_CONTAINER}:ro`],
      DeviceRequests: gpus,
      RestartPolicy: { Name: "no" },
      AutoRemove: false,
    },
  };
}

/** The replica a container's labels name, when they are ours and whole; null otherwise. */
export function replicaOfLabels(
  labels: Readonly<Record<string, string>> | undefined,
  scope: string,
): { service: string; id: number; revision: number } | null {
  if (!labels || labels[LABEL.scope] !== scope) return null;
  const service = labels[LABEL.service];
  const id = Number(labels[LABEL.replica]);
  const revision = Number(labels[LABEL.revision]);
  if (!service || !Number.isSafeInteger(id) || id < 1 || !Number.isSafeInteger(revision)) return null;
  return { service, id, revision };
}
