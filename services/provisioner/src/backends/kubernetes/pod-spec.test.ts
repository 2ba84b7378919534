import { resolvedSpec } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import { parseAcceleratorLabel } from "./accelerator-labels.js";
import { parseNodeSelector, parseTolerations } from "./options.js";
import { buildPod, buildSecret, minimum, type PodInput, type PodOptions, specImage } from "./pod-spec.js";

const opts: PodOptions = {
  defaultImage: "switchyard:local",
  imagePullPolicy: "IfNotPresent",
  hostNetwork: false,
  acceleratorLabel: parseAcceleratorLabel("none"),
  spotNodeSelector: {},
  spotTolerations: [],
  terminationGraceSeconds: 10,
};
const TOKEN = "tok-7b1f0e55-secret";
function input(o: Partial<PodInput> = {}, other: Record<string, unknown> = {}): PodInput {
  const spec = resolvedSpec({
    name: "llm",
    envs: { AUTH_TOKEN: TOKEN, MODEL: "tiny" },
    secretNames: ["AUTH_TOKEN"],
    setup: "echo setting up",
    run: "fake-openai-engine --port $YARD_REPLICA_PORT",
    port: 8081,
  });
  spec.resources.other = other;
  return {
    service: "llm",
    id: 3,
    revision: 2,
    spec,
    port: 8081,
    accelerator: null,
    seenLabelValues: [],
    ...o,
  };
}

describe("buildPod", () => {
  it("carries no env value of the spec: every one is a reference into the replica's Secret", () => {
    const pod = buildPod(input(), opts);
    const text = JSON.stringify(pod);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain("tiny");
    const env = pod.spec!.containers[0].env!;
    expect(env.find((e) => e.name === "AUTH_TOKEN")).toEqual({
      name: "AUTH_TOKEN",
      valueFrom: { secretKeyRef: { name: "yard-llm-3-env", key: "env.AUTH_TOKEN" } },
    });
    // The scripts come from the Secret too (a run line may spell a secret).
    expect(text).not.toContain("fake-openai-engine");
  });

  it("sets the provisioner's variables as the local backend does, and keeps the image's PATH", () => {
    const env = Object.fromEntries(
      buildPod(input(), opts).spec!.containers[0].env!.map((e) => [e.name, e.value]),
    );
    expect(env).toMatchObject({
      YARD_SERVICE: "llm",
      YARD_REPLICA_ID: "3",
      SKYPILOT_SERVE_REPLICA_ID: "3",
      YARD_REPLICA_PORT: "8081",
      CUDA_VISIBLE_DEVICES: "",
      PYTHONUNBUFFERED: "1",
    });
    expect(env.PATH).toBeUndefined();
  });

  it("labels the Pod for adoption, gives no API credentials, never restarts in place", () => {
    const pod = buildPod(input(), opts);
    expect(pod.metadata).toMatchObject({
      name: "yard-llm-3",
      labels: {
        "app.kubernetes.io/managed-by": "switchyard",
        "switchyard.dev/service": "llm",
        "switchyard.dev/replica": "3",
        "switchyard.dev/revision": "2",
      },
      annotations: { "switchyard.dev/port": "8081" },
    });
    expect(pod.spec).toMatchObject({
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 10,
      hostNetwork: false,
    });
    expect(pod.spec!.containers[0].ports).toEqual([{ name: "http", containerPort: 8081, protocol: "TCP" }]);
  });

  it("takes the image from image_id: docker:, else the default", () => {
    expect(
      buildPod(input({}, { image_id: "docker:vllm/vllm-openai:v0.6" }), opts).spec!.containers[0].image,
    ).toBe("vllm/vllm-openai:v0.6");
    expect(buildPod(input(), opts).spec!.containers[0].image).toBe("switchyard:local");
    expect(specImage(input({}, { image_id: { "us-east-1": "ami-1" } }).spec)).toBeNull();
  });

  it("requests cpus and memory (SkyPilot's 4+ is at least 4; memory in GB)", () => {
    const c = buildPod(input({}, { cpus: "4+", memory: 16 }), opts).spec!.containers[0];
    expect(c.resources).toEqual({ requests: { cpu: "4", memory: "16Gi" } });
    expect(minimum("x")).toBeNull();
    expect(minimum(0)).toBeNull();
    expect(minimum("0.5")).toBe(0.5);
  });

  it("limits nvidia.com/gpu to the count (a fraction takes one) and selects the node by its accelerator label", () => {
    const gke = { ...opts, acceleratorLabel: parseAcceleratorLabel("gke") };
    const pod = buildPod(input({ accelerator: { name: "L4", count: 2 } }), gke);
    expect(pod.spec!.containers[0].resources).toEqual({ limits: { "nvidia.com/gpu": "2" } });
    expect(pod.spec!.nodeSelector).toEqual({ "cloud.google.com/gke-accelerator": "nvidia-l4" });
    const env = pod.spec!.containers[0].env!.map((e) => e.name);
    expect(env).not.toContain("CUDA_VISIBLE_DEVICES");
    const half = buildPod(input({ accelerator: { name: "T4", count: 0.5 } }), gke);
    expect(half.spec!.containers[0].resources!.limits).toEqual({ "nvidia.com/gpu": "1" });
    expect(half.spec!.nodeSelector).toEqual({ "cloud.google.com/gke-accelerator": "nvidia-tesla-t4" });
    // none: any GPU node.
    expect(
      buildPod(input({ accelerator: { name: "L4", count: 1 } }), opts).spec!.nodeSelector,
    ).toBeUndefined();
  });

  it("gfd: selects the product names seen on the nodes that are the accelerator", () => {
    const gfd = { ...opts, acceleratorLabel: parseAcceleratorLabel("gfd") };
    const seen = ["NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-PCIE-80GB", "NVIDIA-A100-SXM4-40GB", "NVIDIA-L4"];
    const pod = buildPod(input({ accelerator: { name: "A100-80GB", count: 1 }, seenLabelValues: seen }), gfd);
    expect(pod.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution).toEqual({
      nodeSelectorTerms: [
        {
          matchExpressions: [
            {
              key: "nvidia.com/gpu.product",
              operator: "In",
              values: ["NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-PCIE-80GB"],
            },
          ],
        },
      ],
    });
    const l4 = buildPod(input({ accelerator: { name: "L4", count: 1 }, seenLabelValues: seen }), gfd);
    expect(l4.spec!.nodeSelector).toEqual({ "nvidia.com/gpu.product": "NVIDIA-L4" });
    // No node has an H100: the selector names it, and the scheduler says no node matches.
    const h100 = buildPod(input({ accelerator: { name: "H100", count: 1 }, seenLabelValues: seen }), gfd);
    expect(h100.spec!.nodeSelector).toEqual({ "nvidia.com/gpu.product": "H100" });
  });

  it("use_spot: the configured spot node selector and tolerations; nothing without use_spot", () => {
    const spot = {
      ...opts,
      spotNodeSelector: parseNodeSelector("cloud.google.com/gke-spot=true"),
      spotTolerations: parseTolerations("cloud.google.com/gke-spot=true:NoSchedule"),
    };
    const pod = buildPod(input({}, { use_spot: true }), spot);
    expect(pod.spec!.nodeSelector).toEqual({ "cloud.google.com/gke-spot": "true" });
    expect(pod.spec!.tolerations).toEqual([
      { key: "cloud.google.com/gke-spot", operator: "Equal", value: "true", effect: "NoSchedule" },
    ]);
    const onDemand = buildPod(input(), spot);
    expect(onDemand.spec!.nodeSelector).toBeUndefined();
    expect(onDemand.spec!.tolerations).toBeUndefined();
  });

  it("hostNetwork as configured (tests keep replicas on loopback with it)", () => {
    const pod = buildPod(input(), { ...opts, hostNetwork: true });
    expect(pod.spec).toMatchObject({ hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" });
  });
});

describe("buildSecret", () => {
  it("holds the spec's envs and scripts, labelled like its Pod", () => {
    const s = buildSecret(input());
    expect(s.metadata!.name).toBe("yard-llm-3-env");
    expect(s.metadata!.labels!["switchyard.dev/replica"]).toBe("3");
    expect(s.stringData).toEqual({
      "env.AUTH_TOKEN": TOKEN,
      "env.MODEL": "tiny",
      "setup.sh": "echo setting up",
      "run.sh": "fake-openai-engine --port $YARD_REPLICA_PORT",
    });
    expect(JSON.stringify(s.metadata)).not.toContain(TOKEN);
  });
});

describe("options", () => {
  it("parses node selectors and tolerations, refusing bad entries by name", () => {
    expect(parseNodeSelector("a=b, example.com/spot=true")).toEqual({ a: "b", "example.com/spot": "true" });
    expect(() => parseNodeSelector("a")).toThrow(/bad node selector entry "a"/);
    expect(() => parseNodeSelector("a=b=c")).toThrow(/a=b=c/);
    expect(parseTolerations("spot:NoExecute,gpu")).toEqual([
      { key: "spot", operator: "Exists", effect: "NoExecute" },
      { key: "gpu", operator: "Exists" },
    ]);
    expect(() => parseTolerations("spot=yes:Never")).toThrow(/bad toleration "spot=yes:Never"/);
  });
});
