import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { silentLogger } from "@switchyard/bus";
import { clusterAvailable } from "@switchyard/cluster";
import { resolvedSpec } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackendEvent } from "../src/backends/backend.js";
import { parseAcceleratorLabel } from "../src/backends/kubernetes/accelerator-labels.js";
import { KubernetesBackend } from "../src/backends/kubernetes/kubernetes-backend.js";
import { classifyExit } from "../src/exit-reason.js";

// The kubernetes backend alone against a real API server, scheduler and kubelet (`pnpm cluster
// up`): how each way a Pod ends reaches the provisioner. Skipped, saying why, without the cluster.
const IMAGE = "switchyard:local";
const cluster = await clusterAvailable();
let why = cluster.ok ? "" : cluster.reason;
if (cluster.ok)
  try {
    execFileSync("docker", ["image", "inspect", IMAGE], { stdio: "ignore", timeout: 20_000 });
  } catch {
    why = `the image ${IMAGE} is not built (pnpm images)`;
  }
if (why) console.warn(`services/provisioner/test/kubernetes-backend.test.ts skipped: ${why}`);

describe.skipIf(why !== "")("kubernetes backend on the local cluster", () => {
  const ns = `yard-kb-${randomBytes(3).toString("hex")}`;
  const stateDir = mkdtempSync(join(tmpdir(), "yard-kb-"));
  const kc = new KubeConfig();
  let core: CoreV1Api;
  let backend: KubernetesBackend;
  const events: BackendEvent[] = [];
  const waiters: { test: (e: BackendEvent) => boolean; resolve: (e: BackendEvent) => void }[] = [];
  /** The first event (seen or to come) that passes `test`. */
  const next = (test: (e: BackendEvent) => boolean) =>
    new Promise<BackendEvent>((resolve) => {
      const seen = events.find(test);
      if (seen) resolve(seen);
      else waiters.push({ test, resolve });
    });

  beforeAll(async () => {
    if (!cluster.ok) return;
    kc.loadFromFile(cluster.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: ns } } });
    backend = new KubernetesBackend({
      kc,
      namespace: ns,
      acceleratorLabel: parseAcceleratorLabel("none"),
      stateDir,
      logger: silentLogger,
      pod: {
        defaultImage: IMAGE,
        imagePullPolicy: "Never",
        hostNetwork: true,
        acceleratorLabel: parseAcceleratorLabel("none"),
        spotNodeSelector: {},
        spotTolerations: [],
        terminationGraceSeconds: 2,
      },
    });
    backend.onEvent((e) => {
      events.push(e);
      for (const w of [...waiters]) if (w.test(e)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(e);
    });
  }, 60_000);
  afterAll(async () => {
    backend?.close();
    if (cluster.ok) await core.deleteNamespace({ name: ns }).catch(() => {});
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  const launch = (id: number, o: Parameters<typeof resolvedSpec>[0], other: Record<string, unknown> = {}) => {
    const spec = resolvedSpec({ name: "kb", port: 18_000 + id, ...o });
    spec.resources.other = other;
    return backend.launch({ service: "kb", id, revision: 1, spec, port: 18_000 + id, gpuIndices: [] });
  };
  const exitOf = (id: number) =>
    next((e) => e.type === "exited" && e.id === id) as Promise<Extract<BackendEvent, { type: "exited" }>>;

  it("setup exiting 3: the runner's status comes back through the termination message (SetupFailed, code 3)", async () => {
    await launch(1, { setup: "echo preparing; exit 3", run: "sleep 60" });
    const e = await exitOf(1);
    expect(e.failure).toBeUndefined();
    expect(classifyExit(e.exit)).toMatchObject({
      reason: "SetupFailed",
      message: "setup exited with code 3",
    });
    expect(backend.logTail("kb", 1, [], false)).toContain("preparing");
    await backend.terminate("kb", 1, null);
  }, 120_000);

  it("run starts (startup probe), then exits 7: run_started, then ProcessExited with code 7", async () => {
    await launch(2, { run: "echo serving; sleep 2; exit 7" });
    const started = await next((e) => e.type === "run_started" && e.id === 2);
    expect(started).toMatchObject({ host: "127.0.0.1" });
    const e = await exitOf(2);
    expect(classifyExit(e.exit)).toMatchObject({
      reason: "ProcessExited",
      message: "run exited with code 7",
    });
    await backend.terminate("kb", 2, null);
  }, 120_000);

  it("an image that is not there: FAILED_PROVISION (ImagePullFailed) naming it", async () => {
    await launch(3, { run: "sleep 60" }, { image_id: "docker:switchyard/no-such-image:0" });
    const e = await exitOf(3);
    expect(e.failure).toMatchObject({ phase: "FAILED_PROVISION", reason: "ImagePullFailed" });
    expect(e.failure?.message).toMatch(/switchyard\/no-such-image:0/);
    await backend.terminate("kb", 3, null);
    // Nothing of it ever ran: deleted without a grace, gone when terminate returns.
    const pods = await core.listNamespacedPod({ namespace: ns });
    expect(pods.items.map((p) => p.metadata?.name)).not.toContain("yard-kb-3");
  }, 120_000);

  it("more CPU than the node has: waiting with the scheduler's message; terminate leaves no Pod or Secret", async () => {
    await launch(4, { run: "sleep 60" }, { cpus: "512+" });
    const w = await next((e) => e.type === "waiting" && e.id === 4);
    expect(w).toMatchObject({ reason: "Unschedulable" });
    expect(w.type === "waiting" && w.message).toMatch(/Insufficient cpu/);
    await backend.terminate("kb", 4, null);
    // This replica's Pod and Secret (another case's may still be going).
    const pods = await core.listNamespacedPod({ namespace: ns });
    const secrets = await core.listNamespacedSecret({
      namespace: ns,
      labelSelector: "app.kubernetes.io/managed-by=switchyard",
    });
    expect(pods.items.map((p) => p.metadata?.name)).not.toContain("yard-kb-4");
    expect(secrets.items.map((x) => x.metadata?.name).filter((n) => n?.includes("kb-4"))).toEqual([]);
  }, 120_000);

  it("a Pod deleted by someone else: PREEMPTED, while it still has its grace", async () => {
    const { handle } = await launch(5, { run: "exec sleep 60" });
    await next((e) => e.type === "run_started" && e.id === 5);
    await core.deleteNamespacedPod({ name: "yard-kb-5", namespace: ns });
    const e = await exitOf(5);
    expect(e.failure).toMatchObject({ phase: "PREEMPTED", reason: "Preempted" });
    await backend.terminate("kb", 5, handle);
    expect((await backend.list()).filter((f) => f.id === 5)).toEqual([]);
  }, 120_000);
});
