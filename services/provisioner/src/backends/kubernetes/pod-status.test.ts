import type { V1ContainerState, V1Node, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { acceleratorLabelValues, acceleratorOfLabel, parseAcceleratorLabel } from "./accelerator-labels.js";
import { labelValues, nodeInventory } from "./node-inventory.js";
import { deletedEnding, neverRan, podState } from "./pod-status.js";

function pod(o: {
  phase?: string;
  reason?: string;
  message?: string;
  state?: V1ContainerState;
  started?: boolean;
  scheduled?: { status: string; reason?: string; message?: string };
}): V1Pod {
  return {
    spec: { nodeName: "node-a", containers: [{ name: "replica", image: "x" }] },
    status: {
      phase: o.phase ?? "Pending",
      reason: o.reason,
      message: o.message,
      hostIP: "10.0.0.7",
      conditions: o.scheduled ? [{ type: "PodScheduled", ...o.scheduled }] : [],
      containerStatuses: o.state
        ? [
            {
              name: "replica",
              image: "vllm/vllm-openai:nope",
              imageID: "",
              ready: false,
              restartCount: 0,
              started: o.started,
              state: o.state,
            },
          ]
        : [],
    },
  };
}

describe("podState: a replica Pod's status in SkyServe's terms", () => {
  const table: [string, V1Pod, unknown][] = [
    ["being scheduled", pod({}), { state: "pending", unschedulable: null }],
    [
      "unschedulable: pending with the scheduler's message",
      pod({
        scheduled: {
          status: "False",
          reason: "Unschedulable",
          message: "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.",
        },
      }),
      { state: "pending", unschedulable: "0/1 nodes are available: 1 Insufficient nvidia.com/gpu." },
    ],
    [
      "container being created",
      pod({ state: { waiting: { reason: "ContainerCreating" } } }),
      { state: "pending", unschedulable: null },
    ],
    [
      "setup running",
      pod({ phase: "Running", state: { running: {} }, started: false }),
      { state: "running", runStarted: false, host: "10.0.0.7" },
    ],
    [
      "run started (the startup probe saw the runner's marker)",
      pod({ phase: "Running", state: { running: {} }, started: true }),
      { state: "running", runStarted: true, host: "10.0.0.7" },
    ],
  ];
  it.each(table)("%s", (_name, p, want) => expect(podState(p)).toEqual(want));

  it.each(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"])(
    "%s → FAILED_PROVISION (ImagePullFailed), naming the image",
    (reason) => {
      const s = podState(pod({ state: { waiting: { reason, message: "not found" } } }));
      expect(s).toMatchObject({
        state: "ended",
        ending: { phase: "FAILED_PROVISION", reason: "ImagePullFailed" },
      });
      expect(s.state === "ended" && s.ending.message).toBe(
        `image vllm/vllm-openai:nope cannot be used (${reason}): not found`,
      );
    },
  );

  it("OOMKilled → FAILED (OutOfMemory) with the exit code", () => {
    const s = podState(
      pod({
        phase: "Failed",
        started: true,
        state: { terminated: { exitCode: 137, reason: "OOMKilled", message: "run 137" } },
      }),
    );
    expect(s).toEqual({
      state: "ended",
      ending: {
        phase: "FAILED",
        reason: "OutOfMemory",
        message: "run was killed at its memory limit (OOMKilled), exit code 137",
        stage: "run",
        code: 137,
      },
    });
  });

  it("a script's exit → FAILED with the stage and code the runner recorded", () => {
    const setup = podState(
      pod({ phase: "Failed", state: { terminated: { exitCode: 3, message: "setup 3\n" } } }),
    );
    expect(setup).toMatchObject({
      ending: { phase: "FAILED", reason: "SetupFailed", message: "setup exited with code 3" },
    });
    const run = podState(pod({ phase: "Failed", state: { terminated: { exitCode: 1, message: "run 1" } } }));
    expect(run).toMatchObject({
      ending: { reason: "ProcessExited", message: "run exited with code 1", stage: "run" },
    });
    const zero = podState(
      pod({ phase: "Succeeded", state: { terminated: { exitCode: 0, message: "run 0" } } }),
    );
    expect(zero).toMatchObject({
      ending: { message: "run exited with code 0: the run command must keep the server in the foreground" },
    });
    const killed = podState(pod({ phase: "Failed", state: { terminated: { exitCode: 137 } } }));
    expect(killed).toMatchObject({
      ending: { message: "the replica's container exited with code 137", stage: "unknown" },
    });
  });

  it.each([
    [
      "Evicted",
      "The node was low on resource: memory.",
      "the pod was evicted from its node: The node was low on resource: memory.",
    ],
    ["Preempting", "preempted", "the pod was preempted by a higher-priority pod: preempted"],
    ["NodeLost", undefined, "the pod was lost with its node: NodeLost"],
  ])("%s → PREEMPTED (replaced)", (reason, message, text) => {
    const s = podState(pod({ phase: "Failed", reason, message }));
    expect(s).toMatchObject({
      state: "ended",
      ending: { phase: "PREEMPTED", reason: "Preempted", message: text },
    });
  });

  it("a Pod deleted by someone else is PREEMPTED, naming its node", () => {
    expect(deletedEnding(pod({}))).toMatchObject({
      phase: "PREEMPTED",
      message: "the pod on node node-a was deleted by someone other than the provisioner",
    });
  });
});

describe("neverRan: a Pod deleted without a grace (nothing of the replica to stop)", () => {
  it("unscheduled, image failing or being created: never ran; running or ended: ran", () => {
    expect(neverRan(pod({}))).toBe(true);
    expect(neverRan(pod({ state: { waiting: { reason: "ImagePullBackOff" } } }))).toBe(true);
    expect(neverRan(pod({ state: { waiting: { reason: "ContainerCreating" } } }))).toBe(true);
    expect(neverRan(pod({ state: { running: { startedAt: new Date() } } }))).toBe(false);
    expect(neverRan(pod({ state: { terminated: { exitCode: 1 } } }))).toBe(false);
    expect(neverRan(pod({ phase: "Running" }))).toBe(false);
    expect(neverRan(undefined)).toBe(false);
  });
  it("a container waiting to restart after it ran once: ran", () => {
    const p = pod({ state: { waiting: { reason: "CrashLoopBackOff" } } });
    p.status!.containerStatuses![0].lastState = { terminated: { exitCode: 1 } };
    expect(neverRan(p)).toBe(false);
  });
});

describe("accelerator labels (SkyPilot's formatters)", () => {
  it.each([
    ["gke", "L4", "nvidia-l4"],
    ["gke", "T4", "nvidia-tesla-t4"],
    ["gke", "A100", "nvidia-tesla-a100"],
    ["gke", "A100-80GB", "nvidia-a100-80gb"],
    ["gke", "H100", "nvidia-h100-80gb"],
    ["eks", "V100", "nvidia-tesla-v100"],
    ["skypilot", "A100-80GB", "a100-80gb"],
    ["example.com/gpu", "L4", "L4"],
  ])("%s: %s → %s, and back", (scheme, name, value) => {
    const l = parseAcceleratorLabel(scheme);
    expect(acceleratorLabelValues(l, name, [])).toEqual([value]);
    expect(acceleratorOfLabel(l, value)?.toUpperCase()).toBe(name.toUpperCase());
  });

  it("knows the label keys and refuses what is no label key", () => {
    expect(parseAcceleratorLabel("gke").key).toBe("cloud.google.com/gke-accelerator");
    expect(parseAcceleratorLabel("eks").key).toBe("k8s.amazonaws.com/accelerator");
    expect(parseAcceleratorLabel("gfd").key).toBe("nvidia.com/gpu.product");
    expect(parseAcceleratorLabel("none").key).toBeNull();
    expect(() => parseAcceleratorLabel("not a key!")).toThrow(/neither gke, eks, gfd, skypilot, none/);
  });
});

describe("nodeInventory: allocatable nvidia.com/gpu of schedulable, Ready nodes", () => {
  const node = (
    name: string,
    gpus: string | null,
    labels: Record<string, string> = {},
    o: Partial<V1Node> = {},
  ): V1Node => ({
    metadata: { name, labels },
    spec: {},
    status: {
      allocatable: gpus === null ? { cpu: "8" } : { cpu: "8", "nvidia.com/gpu": gpus },
      conditions: [{ type: "Ready", status: "True" }],
    },
    ...o,
  });
  it("names GPUs by the label, GPU where unlabelled, and skips cordoned and NotReady nodes", () => {
    const gfd = parseAcceleratorLabel("gfd");
    const nodes = [
      node("a", "2", { "nvidia.com/gpu.product": "NVIDIA-L4" }),
      node("b", "1"),
      node("c", null),
      node("d", "4", { "nvidia.com/gpu.product": "NVIDIA-L4" }, { spec: { unschedulable: true } }),
      node(
        "e",
        "4",
        {},
        {
          status: {
            allocatable: { "nvidia.com/gpu": "4" },
            conditions: [{ type: "Ready", status: "False" }],
          },
        },
      ),
    ];
    expect(nodeInventory(nodes, gfd)).toEqual([
      { index: 0, name: "L4" },
      { index: 1, name: "L4" },
      { index: 2, name: "GPU" },
    ]);
    expect(labelValues(nodes, gfd)).toEqual(["NVIDIA-L4"]);
    expect(nodeInventory(nodes, parseAcceleratorLabel("none")).map((g) => g.name)).toEqual([
      "GPU",
      "GPU",
      "GPU",
    ]);
  });
});
