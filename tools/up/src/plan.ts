import { join } from "node:path";
import { type Bundle, PROXY_BUNDLE } from "@switchyard/build";
import type { BusUser } from "@switchyard/contracts";
import { portOf } from "./banner.js";
import { type ClusterNode, clusterNodeArgs, clusterNodeConf, ROUTE_PASS_VAR } from "./nats-cluster-conf.js";
import { JS_KEY_VAR } from "./nats-server-conf.js";
import type { UpOptions } from "./options.js";
import { SPEC_TOKEN_FILE } from "./state-secrets.js";

/** One process the launcher starts: `node` on a service's entry. */
export interface ServicePlan {
  /** Log prefix and progress name: spec, provisioner, prober, proxy-1, proxy-2, … */
  name: string;
  /** The NATS user it connects as (its own least-privilege user). */
  user: BusUser;
  /**
   * What node runs, relative to the repo root: a TypeScript entry through tsx, or a bundle of
   * tools/build (the proxy: it boots ~4x faster), which the launcher builds before it starts
   * anything, so that it always runs the source as it is now.
   */
  run: { tsx: string } | { bundle: Bundle };
  /** Env vars set on top of the launcher's own environment. */
  env: Record<string, string>;
  /** The env var that sets the port of each server it logs as listening (`server` → var). */
  portVars: Record<string, string>;
}

const nth = (base: number, i: number) => String(base === 0 ? 0 : base + i);

/**
 * Start order: spec (creates every stream), provisioner, prober, autoscaler, then the proxies.
 * Stop order is the reverse, so proxies stop taking traffic first and the bus goes last.
 * Pure: the same options always give the same plan.
 */
export function planServices(o: UpOptions, natsUrl: string): ServicePlan[] {
  const bus = (user: BusUser) => ({ NATS_URL: natsUrl, NATS_USER: user, NATS_PASS: o.passwords[user] });
  const plans: ServicePlan[] = [
    {
      name: "spec",
      user: "spec",
      run: { tsx: "services/spec/src/main.ts" },
      env: {
        ...bus("spec"),
        YARD_SPEC_HTTP_PORT: String(o.specPort),
        // The HTTP API's bearer token, made by the launcher (state-secrets.ts): its path, not its value.
        YARD_SPEC_API_TOKEN_FILE: specTokenPath(o),
        // Copies of each stream it creates: 3 on the launcher's cluster, 1 on one server.
        YARD_NATS_REPLICAS: String(o.replicas),
      },
      portVars: { http: "YARD_SPEC_HTTP_PORT" },
    },
    {
      name: "provisioner",
      user: "provisioner",
      run: { tsx: "services/provisioner/src/main.ts" },
      env: { ...bus("provisioner"), YARD_STATE_DIR: o.stateDir },
      portVars: {},
    },
    {
      name: "prober",
      user: "prober",
      run: { tsx: "services/prober/src/main.ts" },
      env: bus("prober"),
      portVars: {},
    },
    {
      name: "autoscaler",
      user: "autoscaler",
      run: { tsx: "services/autoscaler/src/main.ts" },
      env: bus("autoscaler"),
      portVars: { metrics: "YARD_AUTOSCALER_METRICS_PORT" },
    },
  ];
  for (let i = 0; i < o.proxies; i++) {
    plans.push({
      name: `proxy-${i + 1}`,
      user: "proxy",
      run: { bundle: PROXY_BUNDLE },
      env: {
        ...bus("proxy"),
        YARD_PROXY_PORT: nth(o.proxyPort, i),
        YARD_PROXY_ADMIN_PORT: nth(o.adminPort, i),
      },
      portVars: { proxy: "YARD_PROXY_PORT", admin: "YARD_PROXY_ADMIN_PORT" },
    });
  }
  return plans;
}

/** node's arguments for a plan (`node --import tsx <entry>`, or `node <bundle>`). Pure. */
export function nodeArgs(plan: ServicePlan): string[] {
  return "tsx" in plan.run ? ["--import", "tsx", plan.run.tsx] : [plan.run.bundle.outfile];
}

/** The bundles the plans run, each once (built before the first service starts). Pure. */
export function bundlesOf(plans: readonly ServicePlan[]): Bundle[] {
  const out = new Set<Bundle>();
  for (const p of plans) if ("bundle" in p.run) out.add(p.run.bundle);
  return [...out];
}

/**
 * The plan for a restart: every port the last run listened on, pinned (a service planned with
 * port 0 comes back on the port the banner printed, not on a new one). Pure.
 */
export function pinPorts(plan: ServicePlan, listening: ReadonlyMap<string, string>): ServicePlan {
  const env = { ...plan.env };
  for (const [server, address] of listening) {
    const name = plan.portVars[server];
    const port = portOf(address);
    if (name && Number.isInteger(port)) env[name] = String(port);
  }
  return { ...plan, env };
}

/** Where the spec HTTP API's token file lives. */
export function specTokenPath(o: UpOptions): string {
  return join(o.stateDir, SPEC_TOKEN_FILE);
}

/** JetStream's store dir under the state dir. */
export function natsStoreDir(o: UpOptions): string {
  return join(o.stateDir, "nats");
}

/**
 * The launcher's own nats-server: deploy/nats/server.conf (yard.conf's users, JetStream encrypted),
 * loopback, JetStream under the state dir. No secret here: argv is readable by every local user.
 */
export function natsServerArgs(repoRoot: string, o: UpOptions): string[] {
  return [
    "-c",
    join(repoRoot, "deploy", "nats", "server.conf"),
    "-a",
    "127.0.0.1",
    "-p",
    o.natsPort === 0 ? "-1" : String(o.natsPort),
    "-sd",
    natsStoreDir(o),
  ];
}

/** JetStream's store dirs of the launcher's cluster: one per node, apart from the single server's. */
export function natsClusterStoreDir(o: UpOptions): string {
  return join(o.stateDir, "nats-cluster");
}

/**
 * The nodes of the launcher's own cluster: yard-1…yard-N on loopback, clients on natsPort + i,
 * routes on clusterPort + i, each its own store under natsClusterStoreDir. Pure.
 */
export function clusterNodes(o: UpOptions): ClusterNode[] {
  return Array.from({ length: o.natsCluster }, (_, i) => ({
    name: `yard-${i + 1}`,
    clientHost: "127.0.0.1",
    clientPort: o.natsPort + i,
    routeHost: "127.0.0.1",
    routePort: o.clusterPort + i,
    storeDir: join(natsClusterStoreDir(o), `yard-${i + 1}`),
  }));
}

/**
 * One node's config (the launcher writes it under natsClusterStoreDir, mode 0600: its route URLs
 * hold the route password) and command line. Pure.
 */
export function natsClusterNode(
  o: UpOptions,
  node: ClusterNode,
): { path: string; text: string; args: string[] } {
  const path = join(natsClusterStoreDir(o), `${node.name}.conf`);
  return {
    path,
    text: clusterNodeConf(node, clusterNodes(o), o.routePass),
    args: clusterNodeArgs(path, node),
  };
}

/**
 * Env the nats-server needs: the password of every user (the config reads `$YARD_NATS_*_PASS`)
 * and JetStream's key (`$YARD_NATS_JS_KEY`).
 */
export function natsServerEnv(
  o: UpOptions,
  passwordVar: (u: BusUser) => string,
  jsKey: string,
): Record<string, string> {
  const passwords = Object.entries(o.passwords).map(([u, p]) => [passwordVar(u as BusUser), p]);
  const route = o.natsCluster ? { [ROUTE_PASS_VAR]: o.routePass } : {};
  return { ...Object.fromEntries(passwords), [JS_KEY_VAR]: jsKey, ...route };
}

/** Secrets a service must not inherit from the launcher's environment (each goes to one process). */
const LAUNCHER_SECRETS = [JS_KEY_VAR, ROUTE_PASS_VAR, "YARD_SPEC_API_TOKEN"];

/**
 * The environment a service starts with: the launcher's own, minus every NATS password (each
 * service gets only its own, as NATS_PASS) and the other secrets, plus the plan's variables.
 */
export function serviceEnv(
  base: NodeJS.ProcessEnv,
  plan: ServicePlan,
  passwordVar: (u: BusUser) => string,
  users: readonly BusUser[],
): NodeJS.ProcessEnv {
  const env = { ...base };
  for (const u of users) delete env[passwordVar(u)];
  for (const name of LAUNCHER_SECRETS) delete env[name];
  return { ...env, ...plan.env };
}
