import { isAbsolute, join, resolve } from "node:path";
import type { BusUser } from "@switchyard/contracts";
import { BOOL_HELP, parseBool } from "@switchyard/runtime";
import { ROUTE_PASS_RE } from "./nats-cluster-conf.js";
import { BUS_USERS, devPassword, passwordVar } from "./nats-permissions.js";
import type { RestartPolicy } from "./restart-policy.js";

/**
 * What `pnpm start` was asked to do, from its arguments and env vars. Pure: no I/O.
 *
 * | env / flag                | default            | meaning                                          |
 * | NATS_URL                  | (unset)            | use this NATS (deploy/nats/server.conf or yard.conf) |
 * | YARD_NATS_PORT            | 4333               | port of the launcher's own nats-server (0: any)  |
 * | YARD_STATE_DIR            | <repo>/.yard       | JetStream store (nats/), its key (nats-js.key),   |
 * |                           |                    | spec-api.token, replica dirs                      |
 * | YARD_PROXIES              | 1                  | number of proxy processes                        |
 * | YARD_PROXY_PORT           | 8080               | first proxy's port; the next ones +1 (0: any)     |
 * | YARD_PROXY_ADMIN_PORT     | 9090               | first proxy's admin port; +1 each (0: any)        |
 * | YARD_SPEC_HTTP_PORT       | 7070               | spec service HTTP API (0: any)                    |
 * | YARD_EXAMPLE / --no-example | 1                | publish examples/local-auth.yaml with a token     |
 * | YARD_NATS_<USER>_PASS     | <user>-dev         | NATS passwords (spec, provisioner, prober, proxy, autoscaler, cli) |
 * | YARD_RESTART_DELAY_MS     | 500                | first restart of a process that exited on its own |
 * | YARD_RESTART_MAX_DELAY_MS | 30000              | cap of the doubling restart delay (crash loop)    |
 * | YARD_NATS_CLUSTER / --nats-cluster N | 0       | run N nats-servers as a cluster (3 or 5; 0: one)  |
 * | YARD_NATS_CLUSTER_PORT    | 6333               | first node's route port; the next ones +1         |
 * | YARD_NATS_ROUTE_PASS      | route-dev          | password the cluster's routes authenticate with   |
 * | YARD_NATS_REPLICAS        | 3 in a cluster, 1  | copies of each bucket/stream (the spec service's) |
 */
export interface UpOptions {
  /** NATS_URL when given explicitly; null → the launcher's own server on natsPort. */
  natsUrl: string | null;
  natsPort: number;
  stateDir: string;
  proxies: number;
  proxyPort: number;
  adminPort: number;
  specPort: number;
  example: boolean;
  examplePath: string;
  passwords: Record<BusUser, string>;
  /** Restart backoff of a process (nats-server, a service) that exited on its own. */
  restart: RestartPolicy;
  /**
   * Nodes of the launcher's own NATS cluster (3 or 5), or 0 for one nats-server. Node i listens
   * for clients on natsPort + i and for routes on clusterPort + i.
   */
  natsCluster: number;
  clusterPort: number;
  /** The cluster routes' password (YARD_NATS_ROUTE_PASS); never on a command line. */
  routePass: string;
  /** Copies of each bucket and stream (YARD_NATS_REPLICAS), passed to the spec service. */
  replicas: number;
  /** Colours and aligned names (stdout is a terminal and NO_COLOR is unset). */
  pretty: boolean;
  help: boolean;
}

export type Parsed = { ok: true; options: UpOptions } | { ok: false; error: string };

export const USAGE = `Usage: pnpm start [--no-example] [--nats-cluster N] [--help]

Starts Switchyard on this machine without Docker: nats-server (deploy/nats/server.conf), the spec
service, provisioner, prober, autoscaler and YARD_PROXIES proxies, then publishes
examples/local-auth.yaml with a generated token and prints a curl line to try it. A process that exits on its own is
restarted (backoff doubling from YARD_RESTART_DELAY_MS to YARD_RESTART_MAX_DELAY_MS); the others
keep running. Ctrl-C stops everything, replicas included. Made on the first start and kept in
the state dir (mode 0600, never printed): nats-js.key (JetStream's store is encrypted with it)
and spec-api.token (the spec HTTP API's bearer token). --nats-cluster 3 (or 5) runs that many
nats-servers as one cluster (a config per node in the state dir, routes on loopback from
YARD_NATS_CLUSTER_PORT) with every bucket replicated 3 times: any one node can be killed.

Env: NATS_URL, YARD_NATS_PORT (4333), YARD_STATE_DIR (<repo>/.yard), YARD_PROXIES (1),
YARD_PROXY_PORT (8080), YARD_PROXY_ADMIN_PORT (9090), YARD_SPEC_HTTP_PORT (7070),
YARD_EXAMPLE (1), YARD_NATS_<USER>_PASS (<user>-dev), YARD_RESTART_DELAY_MS (500),
YARD_RESTART_MAX_DELAY_MS (30000), YARD_NATS_CLUSTER (0), YARD_NATS_CLUSTER_PORT (6333),
YARD_NATS_ROUTE_PASS (route-dev), YARD_NATS_REPLICAS (3 in a cluster, else 1). See docs/deploy.md.`;

function intVar(
  env: NodeJS.ProcessEnv,
  name: string,
  def: number,
  min: number,
  max: number,
): number | string {
  const raw = env[name];
  if (raw === undefined || raw === "") return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    return `${name} must be an integer from ${min} to ${max} (got "${raw}")`;
  return n;
}

export function parseOptions(
  argv: string[],
  env: NodeJS.ProcessEnv,
  ctx: { repoRoot: string; cwd: string; isTty: boolean },
): Parsed {
  const exampleFlag = env.YARD_EXAMPLE ? parseBool(env.YARD_EXAMPLE) : true;
  if (exampleFlag === null)
    return { ok: false, error: `YARD_EXAMPLE ${BOOL_HELP} (got "${env.YARD_EXAMPLE}")` };
  let example = exampleFlag;
  let help = false;
  let clusterArg: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") continue; // `pnpm start -- --help` passes the separator on
    if (a === "--no-example") example = false;
    else if (a === "--help" || a === "-h") help = true;
    else if (a === "--nats-cluster") clusterArg = argv[++i] ?? "(nothing)";
    else if (a.startsWith("--nats-cluster=")) clusterArg = a.slice("--nats-cluster=".length);
    else return { ok: false, error: `unknown argument "${a}"\n\n${USAGE}` };
  }
  const clusterRaw = clusterArg ?? env.YARD_NATS_CLUSTER ?? "";
  const natsCluster = clusterRaw === "" ? 0 : Number(clusterRaw);
  // An even count adds a node without adding a failure it survives; 1 is a single server.
  if (![0, 3, 5].includes(natsCluster))
    return {
      ok: false,
      error: `--nats-cluster / YARD_NATS_CLUSTER must be 3 or 5 (nodes of a NATS cluster) or 0 (one nats-server) (got "${clusterRaw}")`,
    };
  const ints = {
    natsPort: intVar(env, "YARD_NATS_PORT", 4333, 0, 65535),
    proxies: intVar(env, "YARD_PROXIES", 1, 1, 64),
    proxyPort: intVar(env, "YARD_PROXY_PORT", 8080, 0, 65535),
    adminPort: intVar(env, "YARD_PROXY_ADMIN_PORT", 9090, 0, 65535),
    specPort: intVar(env, "YARD_SPEC_HTTP_PORT", 7070, 0, 65535),
    restartMs: intVar(env, "YARD_RESTART_DELAY_MS", 500, 1, 3_600_000),
    restartMaxMs: intVar(env, "YARD_RESTART_MAX_DELAY_MS", 30_000, 1, 3_600_000),
    clusterPort: intVar(env, "YARD_NATS_CLUSTER_PORT", 6333, 1, 65535 - 4),
    replicas: intVar(env, "YARD_NATS_REPLICAS", natsCluster ? 3 : 1, 1, 5),
  };
  const bad = Object.values(ints).find((v) => typeof v === "string");
  if (bad !== undefined) return { ok: false, error: bad as string };
  const { restartMs, restartMaxMs, ...n } = ints as Record<keyof typeof ints, number>;
  if (restartMaxMs < restartMs)
    return {
      ok: false,
      error: `YARD_RESTART_MAX_DELAY_MS (${restartMaxMs}) must not be below YARD_RESTART_DELAY_MS (${restartMs})`,
    };
  for (const [name, base] of [
    ["YARD_PROXY_PORT", n.proxyPort],
    ["YARD_PROXY_ADMIN_PORT", n.adminPort],
  ] as const) {
    if (base !== 0 && base + n.proxies - 1 > 65535)
      return { ok: false, error: `${name}=${base} leaves no room for ${n.proxies} proxies` };
  }
  if (n.replicas > Math.max(natsCluster, 1))
    return {
      ok: false,
      error: `YARD_NATS_REPLICAS=${n.replicas} needs a NATS cluster of at least ${n.replicas} nodes (--nats-cluster)`,
    };
  if (natsCluster && n.natsPort === 0)
    return {
      ok: false,
      error: "--nats-cluster needs a fixed YARD_NATS_PORT (its nodes take it and the next ports)",
    };
  const routePass = env.YARD_NATS_ROUTE_PASS || "route-dev";
  if (natsCluster && !ROUTE_PASS_RE.test(routePass))
    return {
      ok: false,
      error: "YARD_NATS_ROUTE_PASS must be 8 or more letters, digits, _ or - (it goes into the routes' URLs)",
    };
  const stateRaw = env.YARD_STATE_DIR || join(ctx.repoRoot, ".yard");
  const passwords = Object.fromEntries(
    BUS_USERS.map((u) => [u, env[passwordVar(u)] || devPassword(u)]),
  ) as Record<BusUser, string>;
  return {
    ok: true,
    options: {
      natsUrl: env.NATS_URL || null,
      ...n,
      stateDir: isAbsolute(stateRaw) ? stateRaw : resolve(ctx.cwd, stateRaw),
      example,
      examplePath: join(ctx.repoRoot, "examples", "local-auth.yaml"),
      passwords,
      restart: { initialMs: restartMs, maxMs: restartMaxMs },
      natsCluster,
      routePass,
      pretty: ctx.isTty && !env.NO_COLOR,
      help,
    },
  };
}
