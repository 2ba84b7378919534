import type { Logger } from "@switchyard/bus";
import type { z } from "zod";
import type { Backend, BackendSettings } from "./backend.js";
import { DockerEnv } from "./docker/config.js";
import { createDockerBackend } from "./docker/docker-backend.js";
import { KubernetesEnv } from "./kubernetes/config.js";
import { createKubernetesBackend } from "./kubernetes/kubernetes-backend.js";
import { createLocalBackend } from "./local/local-backend.js";

export type {
  Backend,
  BackendEvent,
  BackendSettings,
  FoundReplica,
  Launched,
  LaunchRequest,
} from "./backend.js";

/** Each backend's own env vars (zod shapes from backends/<name>/config.ts), merged into config.ts. */
export const BACKEND_ENV = { ...DockerEnv, ...KubernetesEnv };
type Env = typeof BACKEND_ENV;
/** What a backend is built from: the common settings and every backend's own env vars. */
export type BackendConfig = BackendSettings &
  (keyof Env extends never ? unknown : z.output<z.ZodObject<Env>>);

/** The values of YARD_BACKEND: one line per backend, each a folder beside this file. */
export const BACKENDS = {
  local: createLocalBackend,
  docker: createDockerBackend,
  kubernetes: createKubernetesBackend,
} as const;

export type BackendName = keyof typeof BACKENDS;
export const BACKEND_NAMES = Object.keys(BACKENDS) as [BackendName, ...BackendName[]];

/** The backend YARD_BACKEND names (config.ts has validated it). */
export function createBackend(
  config: BackendConfig & { YARD_BACKEND: BackendName },
  logger: Logger,
): Backend {
  return BACKENDS[config.YARD_BACKEND](config, logger);
}
