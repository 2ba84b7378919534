import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { freeQuietPort, ofService, REPO_ROOT, run, type Snapshot, TestSystem } from "@switchyard/testkit";
import { BUS_USERS } from "@switchyard/up";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProxyProc, startProxy } from "../services/proxy/test/helpers.js";
import { IMAGE, idempotentLoad, kubectl, kubectlJson, kubeForTests } from "./kubernetes-helpers.js";

// Issue 12 end to end on a real Kubernetes 1.20 (`pnpm cluster up`): the provisioner with the
// kubernetes backend runs each replica as a Pod; then deploy/kubernetes brings the whole system
// up inside the cluster. Pods use host networking, so every request stays on 127.0.0.1.
const kube = await kubeForTests();
if (!kube.ok) console.warn(`test/kubernetes-e2e.test.ts skipped: ${kube.reason}`);
const KC = kube.ok ? kube.kubeconfig : "";
/** The stand-in GPUs the node advertises (`pnpm cluster up --gpus N`). */
const GPUS = kube.ok
  ? Number((await kubectlJson(KC, ["get", "nodes"])).items[0]?.status?.allocatable?.["nvidia.com/gpu"] ?? 0)
  : 0;
if (kube.ok && GPUS === 0)
  console.warn(
    "the GPU case of test/kubernetes-e2e.test.ts skipped: the node advertises no nvidia.com/gpu (pnpm cluster up --gpus 2)",
  );
const TOKEN = `tok-${randomBytes(6).toString("hex")}`;
const NS = `yard-e2e-${randomBytes(3).toString("hex")}`;
const k = (...args: string[]) => kubectl(KC, ["-n", NS, ...args]);
const podsJson = async () => (await kubectlJson(KC, ["-n", NS, "get", "pods"])).items as Pod[];
const secretsJson = async () =>
  (await kubectlJson(KC, ["-n", NS, "get", "secrets", "-l", "app.kubernetes.io/managed-by=switchyard"]))
    .items as Pod[];
interface Pod {
  metadata: {
    name: string;
    uid: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: unknown;
}

const localAuth = (o: { name: string; replicas?: number; accelerators?: string }) =>
  readFileSync(join(REPO_ROOT, "examples/local-auth.yaml"), "utf8")
    .replace(/replicas: 1/, `replicas: ${o.replicas ?? 1}`)
    .replace(
      /resources:\n/,
      `name: ${o.name}\nresources:\n${o.accelerators ? `  accelerators: ${o.accelerators}\n` : ""}`,
    )
    .replace(/initial_delay_seconds: 60/, "initial_delay_seconds: 120");

describe.skipIf(!kube.ok)("the kubernetes backend on the local cluster", () => {
  const sys = new TestSystem({
    env: {
      provisioner: {
        YARD_BACKEND: "kubernetes",
        KUBECONFIG: KC,
        YARD_K8S_NAMESPACE: NS,
        YARD_K8S_IMAGE: IMAGE,
        YARD_K8S_IMAGE_PULL_POLICY: "Never",
        YARD_K8S_HOST_NETWORK: "true",
        YARD_HOST_ADDRESS: "127.0.0.1",
        YARD_TERMINATE_GRACE_MS: "5000",
        YARD_KEEP_REPLICAS_ON_EXIT: "true",
      },
      prober: { YARD_PROBE_INTERVAL_MS: "500" },
    },
    holdPorts: [8000],
  });
  let proxy: ProxyProc;

  beforeAll(async () => {
    await kubectl(KC, ["create", "namespace", NS]);
    await sys.start("spec", "provisioner", "prober");
    proxy = await startProxy(sys.nats.url, { YARD_PROXY_REPORT_MS: "200" });
  }, 180_000);
  afterAll(async () => {
    await proxy?.proc.stop();
    await sys.dispose();
    if (kube.ok) await kubectl(KC, ["delete", "namespace", NS, "--wait=true"], 180_000).catch(() => {});
  }, 240_000);

  const readyIn = (svc: string, n: number) => (s: Snapshot) =>
    ofService(s, svc).replicas.filter((r) => r.phase === "READY").length === n &&
    ofService(s, svc).endpoints.length === n;
  const call = (host: string, token?: string) =>
    request(`${proxy.url}/v1/models`, {
      headers: { host, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    }).then(async (r) => ({ status: r.statusCode, body: await r.body.text() }));

  it("the example spec becomes READY as a Pod through the authenticated probe, and serves through a proxy (200 / 401)", async () => {
    const r = await sys.yard([
      "up",
      sys.writeYaml("llm", localAuth({ name: "llm" })),
      "--env",
      `AUTH_TOKEN=${TOKEN}`,
      "--wait",
    ]);
    expect(r.code, r.all).toBe(0);
    const s = await sys.until(readyIn("llm", 1), "llm READY");
    const [rep] = ofService(s, "llm").replicas;
    expect(rep.backend).toBe("kubernetes");
    const pods = await podsJson();
    expect(pods.map((p) => p.metadata.name)).toEqual([`yard-llm-${rep.id}`]);
    expect(pods[0].metadata.uid).toBe(rep.handle);
    expect((await call("llm.localhost", TOKEN)).status).toBe(200);
    const denied = await call("llm.localhost");
    expect(denied.status).toBe(401);
    // The token is in the replica's Secret only: not in the Pod (spec, labels, annotations).
    expect(JSON.stringify(pods[0])).not.toContain(TOKEN);
    expect((await secretsJson()).map((x) => x.metadata.name)).toEqual([`yard-llm-${rep.id}-env`]);
    // Logs through the pod log API, the token masked.
    const logs = await sys.yard(["logs", "llm", String(rep.id)]);
    expect(logs.all).toMatch(/Starting the fake OpenAI engine/);
    expect(sys.allOutput().join("\n")).not.toContain(TOKEN);
  }, 240_000);

  it("kubectl delete pod of one of 2 replicas under idempotent load: replaced, 0 failed requests", async () => {
    expect(
      (
        await sys.yard([
          "up",
          sys.writeYaml("llm2", localAuth({ name: "llm", replicas: 2 })),
          "--env",
          `AUTH_TOKEN=${TOKEN}`,
        ])
      ).code,
    ).toBe(0);
    const before = await sys.until(readyIn("llm", 2), "2 llm READY");
    const load = idempotentLoad(proxy.url, "llm.localhost", TOKEN);
    const victim = ofService(before, "llm").replicas[0];
    await k("delete", "pod", `yard-llm-${victim.id}`, "--wait=false");
    const after = await sys.until(
      (s) =>
        readyIn("llm", 2)(s) &&
        !ofService(s, "llm").replicas.some((r) => r.id === victim.id && r.phase === "READY"),
      "the deleted replica replaced, 2 READY",
      180_000,
    );
    const { ok, failed } = await load.stop();
    console.log(`kubectl delete pod under load: ${ok} requests answered 200, ${failed.length} failed`);
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    const names = (await podsJson()).map((p) => p.metadata.name).sort();
    const ready = ofService(after, "llm")
      .replicas.filter((r) => r.phase === "READY")
      .map((r) => `yard-llm-${r.id}`);
    expect(names).toEqual(expect.arrayContaining(ready));
    // The deleted Pod goes away once the kubelet has stopped it (not left Terminating).
    // kubectl 1.20 answers "no matching resources found" when it is already gone.
    await k("wait", "--for=delete", `pod/yard-llm-${victim.id}`, "--timeout=120s").catch((err: Error) => {
      if (!/NotFound|not found|no matching resources/.test(err.message)) throw err;
    });
  }, 300_000);

  it("a restarted provisioner adopts the Pods: same Pods, no duplicate, still READY", async () => {
    const before = (await podsJson()).map((p) => `${p.metadata.name}/${p.metadata.uid}`).sort();
    await sys.service("provisioner").stop(30_000);
    await sys.startService("provisioner");
    const s = await sys.until(readyIn("llm", 2), "2 llm READY after the restart");
    const after = (await podsJson()).map((p) => `${p.metadata.name}/${p.metadata.uid}`).sort();
    expect(after).toEqual(before);
    // The READY replicas are those Pods (the record of the Pod deleted earlier stays, PREEMPTED).
    expect(
      ofService(s, "llm")
        .replicas.filter((r) => r.phase === "READY")
        .map((r) => r.handle)
        .sort(),
    ).toEqual(
      after
        .filter((x) => x.startsWith("yard-llm-"))
        .map((x) => x.split("/")[1])
        .sort(),
    );
    expect(sys.service("provisioner").lines.join("\n")).not.toMatch(
      /"msg":"replica phase".*"phase":"PROVISIONING"/,
    );
  }, 240_000);

  it("yard down leaves no Pod and no Secret", async () => {
    expect((await sys.yard(["down", "llm"])).code).toBe(0);
    await sys.until((s) => ofService(s, "llm").replicas.length === 0, "llm gone", 120_000);
    expect(await podsJson()).toEqual([]);
    expect(await secretsJson()).toEqual([]);
  }, 180_000);

  it.skipIf(GPUS === 0)(
    "a GPU replica the scheduler cannot place waits with the scheduler's reason in yard status",
    async () => {
      const gpus = GPUS;
      // Another team's Pod holds every GPU of the cluster: the provisioner's inventory has them,
      // the scheduler has none left.
      writeFileSync(
        join(sys.stateDir, "hog.yaml"),
        JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "gpu-hog" },
          spec: {
            hostNetwork: true,
            containers: [
              {
                name: "hog",
                image: IMAGE,
                imagePullPolicy: "Never",
                command: ["sleep", "3600"],
                resources: { limits: { "nvidia.com/gpu": String(gpus) } },
              },
            ],
          },
        }),
      );
      await k("apply", "-f", join(sys.stateDir, "hog.yaml"));
      expect(
        (
          await sys.yard([
            "up",
            sys.writeYaml("gpu", localAuth({ name: "gpu", accelerators: "GPU:1" })),
            "--env",
            `AUTH_TOKEN=${TOKEN}`,
          ])
        ).code,
      ).toBe(0);
      const s = await sys.until(
        (s) => ofService(s, "gpu").replicas.some((r) => r.reason === "Unschedulable"),
        "gpu replica unschedulable",
        120_000,
      );
      const rep = ofService(s, "gpu").replicas[0];
      expect(rep.message).toMatch(/Insufficient nvidia\.com\/gpu/);
      // The table shows the reason (cut to its column); --json the whole message.
      expect((await sys.yard(["status", "gpu"])).all).toMatch(/Unschedulable/);
      const status = JSON.parse((await sys.yard(["status", "gpu", "--json"])).stdout);
      expect(status.replicas[0].message).toMatch(/Insufficient nvidia\.com\/gpu/);
      // Asking for more than the whole cluster has: the provisioner's own inventory says so.
      expect(
        (
          await sys.yard([
            "up",
            sys.writeYaml("gpu-big", localAuth({ name: "gpu-big", accelerators: `GPU:${gpus + 1}` })),
            "--env",
            `AUTH_TOKEN=${TOKEN}`,
          ])
        ).code,
      ).toBe(0);
      const big = await sys.until(
        (s) => ofService(s, "gpu-big").replicas.some((r) => r.phase === "PENDING"),
        "gpu-big PENDING",
      );
      expect(ofService(big, "gpu-big").replicas[0].message).toMatch(new RegExp(`inventory GPU:${gpus}`));
      await k("delete", "pod", "gpu-hog", "--wait=false");
      await sys.until(readyIn("gpu", 1), "gpu READY once the GPUs are free", 180_000);
      for (const svc of ["gpu", "gpu-big"]) expect((await sys.yard(["down", svc])).code).toBe(0);
      await sys.until(
        (s) => ofService(s, "gpu").replicas.length + ofService(s, "gpu-big").replicas.length === 0,
        "gpu gone",
        120_000,
      );
      expect(await podsJson()).toEqual([]);
    },
    420_000,
  );
});

describe.skipIf(!kube.ok)("deploy/kubernetes on the local cluster", () => {
  const dir = mkdtempSync(join(tmpdir(), "yard-k8s-deploy-"));
  const pass = Object.fromEntries(BUS_USERS.map((u) => [u, randomBytes(12).toString("hex")]));
  const hostPorts = { nats: 0, monitor: 0, proxy: 0, admin: 0 };
  const DNS = "yard-deploy";

  beforeAll(async () => {
    // Outside the ephemeral range: the kubelet's and apiserver's own connections take ports
    // there, and one that took the NATS port before the Pod bound it kept it ready never (CI).
    for (const p of Object.keys(hostPorts) as (keyof typeof hostPorts)[])
      do hostPorts[p] = await freeQuietPort();
      while (Object.values(hostPorts).filter((x) => x === hostPorts[p]).length > 1);
    const api = new URL((await kubectlJson(KC, ["config", "view", "--minify"])).clusters[0].cluster.server);
    await kubectl(KC, ["create", "namespace", DNS]).catch(() => {});
    await kubectl(KC, [
      "-n",
      DNS,
      "create",
      "secret",
      "generic",
      "switchyard-nats",
      `--from-literal=js-key=k${randomBytes(20).toString("hex")}`,
      ...BUS_USERS.map((u) => `--from-literal=${u}=${pass[u]}`),
    ]);
    // One patch per file: kubectl 1.20's kustomize reads a file that starts with `{` as one JSON
    // document, so JSON documents joined by `---` fail ("invalid character '-'").
    const patches = localPatches(hostPorts, api);
    for (const [i, p] of patches.entries()) writeFileSync(join(dir, `local-${i}.yaml`), JSON.stringify(p));
    writeFileSync(
      join(dir, "kustomization.yaml"),
      overlay(relative(dir, join(REPO_ROOT, "deploy/kubernetes")), DNS, patches.length),
    );
    // JSON patches: a strategic merge would add these ports beside the base's, not replace them.
    const ports = (list: [string, number][]) => ({
      op: "replace",
      path: "/spec/template/spec/containers/0/ports",
      value: list.map(([name, containerPort]) => ({ name, containerPort })),
    });
    writeFileSync(
      join(dir, "nats-json.yaml"),
      JSON.stringify([
        { op: "remove", path: "/spec/volumeClaimTemplates" },
        { op: "add", path: "/spec/template/spec/volumes/-", value: { name: "data", emptyDir: {} } },
        ports([
          ["client", hostPorts.nats],
          ["monitor", hostPorts.monitor],
        ]),
      ]),
    );
    writeFileSync(join(dir, "proxy-json.yaml"), JSON.stringify([ports([["http", hostPorts.proxy]])]));
  }, 60_000);
  afterAll(async () => {
    if (kube.ok) {
      await kubectl(KC, ["delete", "-k", dir, "--wait=true"], 240_000).catch(() => {});
      await kubectl(KC, ["delete", "namespace", DNS, "--wait=true"], 240_000).catch(() => {});
    }
    rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  it("kubectl apply -k brings every Deployment up, and a curl through the proxy's port on 127.0.0.1 answers", async () => {
    await kubectl(KC, ["apply", "-k", dir]);
    // A rollout that does not finish says why: the Pods, their events and the last log lines.
    const rollout = (what: string, pod: string) =>
      kubectl(KC, ["-n", DNS, "rollout", "status", what, "--timeout=180s"], 200_000).catch(async (err) => {
        const said = async (args: string[]) =>
          (await kubectl(KC, ["-n", DNS, ...args]).catch((e: Error) => e.message)).slice(-3000);
        throw new Error(
          [
            (err as Error).message,
            await said(["get", "pods", "-o", "wide"]),
            await said(["describe", "pods", "-l", pod]),
            await said(["logs", "-l", pod, "--tail=30", "--all-containers"]),
          ].join("\n"),
        );
      });
    await rollout("statefulset/nats", "app.kubernetes.io/name=nats");
    for (const d of ["spec", "provisioner", "prober", "autoscaler", "proxy"])
      await rollout(`deployment/${d}`, `app.kubernetes.io/name=${d}`);
    const deps = (await kubectlJson(KC, ["-n", DNS, "get", "deployments"])).items;
    for (const d of deps) expect(d.status.availableReplicas, d.metadata.name).toBe(d.spec.replicas);

    const cli = (args: string[]) =>
      run("cli/src/main.ts", args, {
        NATS_URL: `nats://127.0.0.1:${hostPorts.nats}`,
        NATS_USER: "cli",
        NATS_PASS: pass.cli,
      });
    const up = await cli(["up", "examples/local-auth.yaml", "--env", `AUTH_TOKEN=${TOKEN}`, "--wait"]);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const pods = (
      await kubectlJson(KC, ["-n", DNS, "get", "pods", "-l", "switchyard.dev/service=local-auth"])
    ).items;
    expect(pods).toHaveLength(1);
    const url = `http://127.0.0.1:${hostPorts.proxy}/v1/models`;
    const ok = await request(url, {
      headers: { host: "local-auth.localhost", authorization: `Bearer ${TOKEN}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.text()).toContain("fake/llama-2-7b-chat");
    const no = await request(url, { headers: { host: "local-auth.localhost" } });
    await no.body.text();
    expect(no.statusCode).toBe(401);
    const down = await cli(["down", "local-auth"]);
    expect(down.code).toBe(0);
  }, 600_000);
});

/** The test overlay: the base as it is, on host networking (no kube-proxy, no cluster DNS here). */
function overlay(base: string, ns: string, patches: number): string {
  return [
    // bases / patchesStrategicMerge / patchesJson6902: read by kubectl 1.20's kustomize and later ones.
    `namespace: ${ns}`,
    "bases:",
    `  - ${base}`,
    "patchesStrategicMerge:",
    ...Array.from({ length: patches }, (_, i) => `  - local-${i}.yaml`),
    "patchesJson6902:",
    "  - target: { group: apps, version: v1, kind: StatefulSet, name: nats }",
    "    path: nats-json.yaml",
    "  - target: { group: apps, version: v1, kind: Deployment, name: proxy }",
    "    path: proxy-json.yaml",
    "",
  ].join("\n");
}

function localPatches(
  p: { nats: number; monitor: number; proxy: number; admin: number },
  api: URL,
): object[] {
  const nats = { name: "NATS_URL", value: `nats://127.0.0.1:${p.nats}` };
  const host = { hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" };
  const deployment = (name: string, env: { name: string; value: string }[], extra: object = {}) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: { ...extra, template: { spec: { ...host, containers: [{ name, env: [nats, ...env] }] } } },
  });
  const docs = [
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "nats" },
      spec: {
        template: {
          spec: {
            ...host,
            containers: [
              {
                name: "nats",
                args: [
                  "-c",
                  "/etc/yard-nats/server.conf",
                  "-sd",
                  "/data",
                  "-a",
                  "127.0.0.1",
                  "-p",
                  String(p.nats),
                  "-m",
                  String(p.monitor),
                ],
                readinessProbe: {
                  httpGet: { path: "/healthz?js-enabled-only=true", port: p.monitor, host: "127.0.0.1" },
                },
              },
            ],
          },
        },
      },
    },
    deployment("spec", [
      { name: "YARD_SPEC_HTTP_HOST", value: "127.0.0.1" },
      { name: "YARD_SPEC_HTTP_PORT", value: "0" },
    ]),
    deployment("provisioner", [
      { name: "YARD_K8S_HOST_NETWORK", value: "true" },
      { name: "YARD_K8S_IMAGE_PULL_POLICY", value: "Never" },
      // No kube-proxy here: the API server itself, as the kubeconfig names it.
      { name: "KUBERNETES_SERVICE_HOST", value: api.hostname },
      { name: "KUBERNETES_SERVICE_PORT", value: api.port || "443" },
    ]),
    deployment("prober", []),
    deployment("autoscaler", [{ name: "YARD_AUTOSCALER_METRICS_PORT", value: "0" }]),
    // One node, host networking: one proxy per port.
    deployment(
      "proxy",
      [
        { name: "YARD_PROXY_PORT", value: String(p.proxy) },
        { name: "YARD_PROXY_ADMIN_PORT", value: String(p.admin) },
      ],
      { replicas: 1 },
    ),
  ];
  return docs;
}
