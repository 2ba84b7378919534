import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { setTimeout as delay } from "node:timers/promises";
import { ensureBuilt } from "./build.js";
import {
  IDENTITIES,
  IDENTITY_NAMES,
  type Identity,
  kubeconfig,
  kubeletConfig,
  tokenFile,
} from "./config-files.js";
import { ensurePauseImage, ensureRuntime, imageExists } from "./docker.js";
import { down } from "./down.js";
import { apiServer, commandLine, type Ports } from "./flags.js";
import { kubeRequest, kubeWatch } from "./kube.js";
import { type Access, readAccess } from "./kubeconfig-read.js";
import {
  type Component,
  cacheLayout,
  GPU_LABELS,
  NODE_NAME,
  PROJECT_IMAGES,
  type StateLayout,
  stateLayout,
} from "./layout.js";
import { withLock } from "./lock.js";
import { type NodeLike, nodeReady } from "./node-state.js";
import type { ClusterOptions } from "./options.js";
import type { Started } from "./pids.js";
import { makePki } from "./pki.js";
import { readPids, running, startDaemon, writePids } from "./procs.js";
import { clusterStatus } from "./status.js";

export type Say = (s: string) => void;

/** `pnpm cluster up`. Resolves with the kubeconfig path once the node is Ready. */
export async function up(o: ClusterOptions, say: Say): Promise<string> {
  if (process.getuid?.() !== 0)
    throw new Error("the local cluster needs root (kubelet, Docker's runtime config)");
  mkdirSync(o.cacheDir, { recursive: true });
  // One `up` at a time on a machine (a second one waits, then finds the cluster up).
  return withLock(`${o.cacheDir}/up.lock`, say, "another pnpm cluster up", () => upLocked(o, say));
}

async function upLocked(o: ClusterOptions, say: Say): Promise<string> {
  const cache = cacheLayout(o.cacheDir);
  const s = stateLayout(o.stateDir);
  const t0 = Date.now();
  const now = await clusterStatus(o);
  if (now.up) {
    say(`already up (node ${now.node}); kubeconfig: ${s.kubeconfig}`);
    return s.kubeconfig;
  }
  if (readPids(s).length || existsSync(s.dir)) {
    say("cleaning up what an earlier cluster left");
    await down(o, say);
  }
  const tb = Date.now();
  await ensureBuilt(cache, say);
  const buildMs = Date.now() - tb;
  await ensureRuntime(say);
  await ensurePauseImage(cache, say);

  mkdirSync(s.dir, { recursive: true, mode: 0o700 });
  const started: Started[] = [];
  try {
    const access = writeConfig(s, o);
    const ports: Ports = { api: o.apiPort, etcd: o.etcdPort };
    const deadline = () => Date.now() + o.timeoutMs;
    const start = async (c: Component, ready: () => Promise<boolean>) => {
      const t = Date.now();
      const [cmd, args] = commandLine(c, cache, s, ports);
      const p = startDaemon(s, c, cmd, args);
      started.push(p);
      writePids(s, started);
      await until(p, ready, deadline(), s);
      say(`${c} ready (${((Date.now() - t) / 1000).toFixed(1)} s, pid ${p.pid})`);
    };
    await start("etcd", () => etcdHealthy(s, o.etcdPort));
    await start("kube-apiserver", async () => (await get(access, "/readyz")) === 200);
    await start("kube-controller-manager", () => componentHealthy(10257));
    await start("kube-scheduler", () => componentHealthy(10259));
    const tk = Date.now();
    const kubelet = startDaemon(s, "kubelet", ...commandLine("kubelet", cache, s, ports));
    started.push(kubelet);
    writePids(s, started);
    say(`kubelet started (pid ${kubelet.pid}); waiting for node ${NODE_NAME} to be Ready`);
    await waitNodeReady(access, kubelet, s, deadline(), say);
    say(`node ${NODE_NAME} Ready (${((Date.now() - tk) / 1000).toFixed(1)} s)`);
    if (o.gpus > 0) await advertiseGpus(access, o.gpus, say);
    await reportImages(say);
    // Pods cannot be created in a namespace before its default ServiceAccount exists.
    await until(
      kubelet,
      async () => (await get(access, "/api/v1/namespaces/default/serviceaccounts/default")) === 200,
      deadline(),
      s,
    );
    say(
      `up in ${((Date.now() - t0) / 1000).toFixed(1)} s${buildMs > 1000 ? ` (build ${Math.round(buildMs / 1000)} s)` : ""}; kubeconfig: ${s.kubeconfig}`,
    );
    return s.kubeconfig;
  } catch (err) {
    say("cannot start; stopping what was started (logs kept in " + s.logs + ")");
    await down(o, say, { keepLogs: true });
    throw err;
  }
}

function randomToken(): string {
  return randomBytes(24).toString("hex");
}

/** PKI, tokens, kubeconfigs (0600) and the kubelet's config; returns the admin's access. */
function writeConfig(s: StateLayout, o: ClusterOptions): Access {
  makePki(s);
  const tokens = Object.fromEntries(IDENTITY_NAMES.map((who) => [who, randomToken()])) as Record<
    Identity,
    string
  >;
  writeFileSync(s.tokens, tokenFile(tokens), { mode: 0o600 });
  const caPem = readFileSync(s.ca, "utf8");
  const server = apiServer({ api: o.apiPort, etcd: o.etcdPort });
  for (const who of IDENTITY_NAMES) {
    const text = kubeconfig({ server, caPem, token: tokens[who], user: IDENTITIES[who].user });
    writeFileSync(who === "admin" ? s.kubeconfig : s.kubeconfigOf(who), text, { mode: 0o600 });
  }
  writeFileSync(s.kubeletConfig, kubeletConfig(s));
  return readAccess(readFileSync(s.kubeconfig, "utf8"))!;
}

function logTail(s: StateLayout, name: string): string {
  try {
    return readFileSync(s.log(name), "utf8").trim().split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Ask `ready` until it holds. A daemon's readiness is only visible by asking it (no event
 * reaches us), so this polls every 250 ms, failing at once when the process exits.
 */
async function until(
  p: Started,
  ready: () => Promise<boolean>,
  deadline: number,
  s: StateLayout,
): Promise<void> {
  for (;;) {
    if (!running(p)) throw new Error(`${p.name} exited; the end of ${s.log(p.name)}:\n${logTail(s, p.name)}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`${p.name} not ready in time; the end of ${s.log(p.name)}:\n${logTail(s, p.name)}`);
    await delay(250);
  }
}

async function get(a: Access, path: string): Promise<number> {
  return (await kubeRequest(a, "GET", path, { timeoutMs: 3000 })).status;
}

function probe(opts: RequestOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsRequest({ ...opts, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}

function etcdHealthy(s: StateLayout, port: number): Promise<boolean> {
  return probe({
    host: "127.0.0.1",
    port,
    path: "/health",
    ca: readFileSync(s.ca),
    cert: readFileSync(s.cert("apiserver-etcd-client")),
    key: readFileSync(s.key("apiserver-etcd-client")),
  });
}

/** controller-manager and scheduler serve /healthz to anyone, with a self-signed certificate. */
function componentHealthy(port: number): Promise<boolean> {
  return probe({ host: "127.0.0.1", port, path: "/healthz", rejectUnauthorized: false });
}

/** Watch the node until it is Ready, printing each change of its state. */
async function waitNodeReady(
  a: Access,
  kubelet: Started,
  s: StateLayout,
  deadline: number,
  say: Say,
): Promise<void> {
  let last = "";
  while (Date.now() < deadline) {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), Math.max(0, deadline - Date.now()));
    const exitCheck = setInterval(() => {
      if (!running(kubelet)) ac.abort();
    }, 500);
    try {
      await kubeWatch<NodeLike>(
        a,
        `/api/v1/nodes?fieldSelector=metadata.name%3D${NODE_NAME}`,
        (_type, n) => {
          const r = nodeReady(n);
          const line = r.ready ? "Ready" : `not ready: ${r.why}`;
          if (line !== last) say(`  node: ${line}`);
          last = line;
          return r.ready;
        },
        ac.signal,
      );
      return;
    } catch (err) {
      if (!running(kubelet))
        throw new Error(`kubelet exited; the end of ${s.log("kubelet")}:\n${logTail(s, "kubelet")}`);
      if (ac.signal.aborted) break;
      // The API ends watches now and then: watch again.
      if (!/ended/.test((err as Error).message)) await delay(250);
    } finally {
      clearTimeout(timer);
      clearInterval(exitCheck);
    }
  }
  throw new Error(
    `node ${NODE_NAME} not Ready in time (last: ${last || "not registered"}); the end of ${s.log("kubelet")}:\n${logTail(s, "kubelet")}`,
  );
}

/** Which of the project's images pods can use (dockershim runs what dockerd has). */
async function reportImages(say: Say): Promise<void> {
  const have: string[] = [];
  const missing: string[] = [];
  for (const ref of PROJECT_IMAGES) ((await imageExists(ref)) ? have : missing).push(ref);
  if (have.length) say(`images for pods (dockerd's store, imagePullPolicy: Never): ${have.join(", ")}`);
  if (missing.length) say(`not in dockerd yet: ${missing.join(", ")} (pnpm images builds them)`);
}

/**
 * The node advertises `n` nvidia.com/gpu (an extended resource patched into its status, as the
 * Kubernetes docs show for resources without a device plugin): the scheduler counts them; no
 * device exists and nothing is mounted into a pod.
 */
async function advertiseGpus(a: Access, n: number, say: Say): Promise<void> {
  const st = await kubeRequest(a, "PATCH", `/api/v1/nodes/${NODE_NAME}/status`, {
    body: [{ op: "add", path: "/status/capacity/nvidia.com~1gpu", value: String(n) }],
    contentType: "application/json-patch+json",
  });
  if (st.status !== 200) throw new Error(`advertising GPUs: HTTP ${st.status} ${st.body.slice(0, 300)}`);
  const lb = await kubeRequest(a, "PATCH", `/api/v1/nodes/${NODE_NAME}`, {
    body: { metadata: { labels: GPU_LABELS } },
    contentType: "application/merge-patch+json",
  });
  if (lb.status !== 200) throw new Error(`labelling the node: HTTP ${lb.status} ${lb.body.slice(0, 300)}`);
  say(`node advertises ${n} nvidia.com/gpu (stand-in) with labels ${Object.keys(GPU_LABELS).join(", ")}`);
}
