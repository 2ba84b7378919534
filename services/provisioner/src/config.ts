import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SKYSERVE_DRAIN_SECONDS } from "@switchyard/contracts";
import { bool, CommonEnv, millis, parseEnv } from "@switchyard/runtime";
import { z } from "zod";
import { BACKEND_ENV, BACKEND_NAMES } from "./backends/index.js";

/** The Switchyard checkout this provisioner runs from (for its node_modules/.bin). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export const DEFAULT_MAX_REPLICAS = 256;
export const DEFAULT_LAUNCHES_PER_INTERVAL = 8;
export const DEFAULT_LAUNCH_INTERVAL_MS = 1_000;

const atLeastOne = (def: number) =>
  z.coerce.number().int("must be a whole number").positive("must be 1 or more").default(def);

/** Provisioner env vars; each has a documented default (README table). */
export const ProvisionerEnv = z.object({
  ...CommonEnv,
  /** Root of replica working dirs: `<dir>/replicas/<svc>/<id>/` (log, scripts, state). */
  YARD_STATE_DIR: z.string().default(join(homedir(), ".yard")),
  /** GPU inventory, e.g. `A100:2,L4:1` (indices 0..n-1 in that order). Unset: nvidia-smi if present, else none. */
  YARD_GPUS: z.string().optional(),
  /** Host put in replica URLs (what the prober and proxies connect to). */
  YARD_HOST_ADDRESS: z.string().default("127.0.0.1"),
  /** SIGTERM → SIGKILL grace when stopping a replica's process group. */
  YARD_TERMINATE_GRACE_MS: millis(10_000),
  /** On SIGTERM leave replicas running (a restarted provisioner adopts them) instead of stopping them. */
  YARD_KEEP_REPLICAS_ON_EXIT: bool(false),
  /** Where replicas run: a folder of backends/ (local: process groups on this host). */
  YARD_BACKEND: z.enum(BACKEND_NAMES).default("local"),
  /** Dirs put first on each replica's PATH (`:`-separated); default: the checkout's node_modules/.bin. */
  YARD_REPLICA_PATH: z.string().default(join(REPO_ROOT, "node_modules", ".bin")),
  /** Replica records (pending, running or stopping) across all services at once; the rest wait. */
  YARD_MAX_REPLICAS: atLeastOne(DEFAULT_MAX_REPLICAS),
  /** Launches started in any YARD_LAUNCH_INTERVAL_MS window; the rest wait for the next. */
  YARD_LAUNCHES_PER_INTERVAL: atLeastOne(DEFAULT_LAUNCHES_PER_INTERVAL),
  YARD_LAUNCH_INTERVAL_MS: atLeastOne(DEFAULT_LAUNCH_INTERVAL_MS),
  /**
   * The longest drain: a replica taken out of rotation (scale-down, update, yard down) is
   * stopped once the proxies report no request in flight on it, or after this many seconds
   * (SkyServe always waits its 120). 0: no wait.
   */
  YARD_DRAIN_TIMEOUT_S: z.coerce
    .number()
    .min(0, "must be 0 or more")
    .max(86_400, "must be at most 86400 (a day)")
    .default(SKYSERVE_DRAIN_SECONDS),
  /**
   * The proxies' load report interval (their YARD_PROXY_REPORT_MS, same name, same default): a
   * provisioner that just started waits 3 of them before it takes "no report" for "no proxy".
   */
  YARD_PROXY_REPORT_MS: z.coerce.number().int().min(50).max(600_000).default(1_000),
  /** Each backend's own settings (backends/<name>/config.ts). */
  ...BACKEND_ENV,
});
export type ProvisionerConfig = z.infer<typeof ProvisionerEnv>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ProvisionerConfig> {
  return parseEnv(ProvisionerEnv, env);
}
