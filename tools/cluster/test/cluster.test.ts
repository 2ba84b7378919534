import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterAvailable } from "../src/index.js";
import { kubeRequest, kubeWatch } from "../src/kube.js";
import { type Access, readAccess } from "../src/kubeconfig-read.js";

// On the running local cluster (`pnpm cluster up`): a hostNetwork pod with a local image (no
// registry: imagePullPolicy Never, dockerd's image store) runs and serves on 127.0.0.1.
const IMAGE = "node:20-bookworm-slim"; // the stand-in `pnpm images` builds
const run = promisify(execFile);
const cluster = await clusterAvailable();
const imagePresent =
  cluster.ok &&
  (await run("docker", ["image", "inspect", IMAGE]).then(
    () => true,
    () => false,
  ));
const skip = !cluster.ok
  ? cluster.reason
  : !imagePresent
    ? `image ${IMAGE} is not in dockerd: run pnpm images`
    : "";
if (skip) console.warn(`skipped local cluster tests: ${skip}`);

const NS = "default";
const POD = `yard-cluster-test-${process.pid}`;
let access: Access;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

type Pod = {
  metadata: { name: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
};
const podReady = (p: Pod) =>
  p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** Resolve when the pod's watch shows `done`; the watch starts with the pod's current state. */
function waitPod(done: (type: string, p: Pod) => boolean, what: string, ms = 60_000): Promise<void> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`timed out waiting for ${what}`)), ms);
  return kubeWatch<Pod>(
    access,
    `/api/v1/namespaces/${NS}/pods?fieldSelector=metadata.name%3D${POD}`,
    done,
    ac.signal,
  ).finally(() => clearTimeout(timer));
}

describe.skipIf(skip !== "")("local cluster (pnpm cluster up)", () => {
  beforeAll(() => {
    if (cluster.ok) access = readAccess(readFileSync(cluster.kubeconfig, "utf8"))!;
  });
  afterAll(async () => {
    if (access)
      await kubeRequest(access, "DELETE", `/api/v1/namespaces/${NS}/pods/${POD}?gracePeriodSeconds=0`);
  });

  it("a hostNetwork pod with a local image serves on 127.0.0.1, and is gone after deletion", async () => {
    const port = await freePort();
    const server = `require("http").createServer((q, r) => r.end("hello from a pod")).listen(${port}, "127.0.0.1")`;
    const created = await kubeRequest(access, "POST", `/api/v1/namespaces/${NS}/pods`, {
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: POD },
        spec: {
          hostNetwork: true,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: "web",
              image: IMAGE,
              imagePullPolicy: "Never",
              command: ["node", "-e", server],
              readinessProbe: { httpGet: { host: "127.0.0.1", port, path: "/" }, periodSeconds: 1 },
            },
          ],
        },
      },
    });
    expect(created.status, created.body).toBe(201);
    await waitPod((_t, p) => podReady(p), "the pod to be Ready");
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.text()).toBe("hello from a pod");

    const deleted = await kubeRequest(
      access,
      "DELETE",
      `/api/v1/namespaces/${NS}/pods/${POD}?gracePeriodSeconds=1`,
    );
    expect(deleted.status).toBe(200);
    await waitPod((type) => type === "DELETED", "the pod to be deleted");
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it("pnpm cluster status says up and names the kubeconfig, without its token", async () => {
    const { stdout } = await run("pnpm", ["--silent", "cluster", "status"], {
      cwd: new URL("../../..", import.meta.url),
    });
    expect(stdout).toMatch(/^kube-apiserver\s+running \(pid \d+\)$/m);
    expect(stdout).toMatch(/^node\s+Ready$/m);
    expect(stdout).toContain(cluster.ok ? cluster.kubeconfig : "");
    expect(stdout).not.toContain(access.token);
  });
});
