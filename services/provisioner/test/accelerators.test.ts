import { call } from "@switchyard/bus";
import { type LogsResult, Subjects } from "@switchyard/contracts";
import { quietPort, specRecord } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENGINE_RUN, provisionerSystem, TOKEN } from "./suite.js";

describe("provisioner: accelerators from YARD_GPUS", { timeout: 120_000 }, () => {
  const w = provisionerSystem();
  beforeAll(async () => {
    await w.start();
    await w.startService("provisioner", { YARD_GPUS: "L4:1" });
  });
  afterAll(() => w.dispose());

  it("{L4:1, A100:1} × 2 on an L4:1 host → one replica on the L4 (CUDA_VISIBLE_DEVICES=0), one PENDING naming the inventory", async () => {
    await w.putSpec(
      specRecord({
        name: "gpu",
        port: quietPort(),
        replicas: 2,
        accelerators: [
          { name: "L4", count: 1 },
          { name: "A100", count: 1 },
        ],
        envs: { AUTH_TOKEN: TOKEN },
        secretNames: ["AUTH_TOKEN"],
        run: ENGINE_RUN,
      }),
    );
    const rs = await w.waitReplicas(
      (rs) => rs.some((r) => r.phase === "STARTING") && rs.some((r) => r.phase === "PENDING"),
      "one STARTING, one PENDING",
    );
    const [onGpu, pending] = [
      rs.find((r) => r.phase === "STARTING")!,
      rs.find((r) => r.phase === "PENDING")!,
    ];
    expect(onGpu).toMatchObject({ accelerator: "L4", accelerator_count: 1, gpu_indices: [0] });
    expect(pending).toMatchObject({
      reason: "NoAcceleratorFree",
      message: "no free accelerator among {L4:1, A100:1}; inventory L4:1 (1 in use)",
      handle: null,
      url: null,
    });
    // The replica saw the GPU it got.
    const logOf = () =>
      call<LogsResult>(w.nc, Subjects.replicaLogs, { service: "gpu", replica_id: onGpu.id }).then(
        (c) => c.data,
      );
    await expect.poll(logOf, { timeout: 30_000 }).toContain(`cvd=[0] id=${onGpu.id}`);
  });

  it("when the L4 frees (its replica crashed) the PENDING replica gets it; a new one waits", async () => {
    const before = await w.waitReplicas((rs) => rs.length === 2, "2 replicas");
    const onGpu = before.find((r) => r.phase === "STARTING")!;
    const pending = before.find((r) => r.phase === "PENDING")!;
    process.kill(-Number(onGpu.handle), "SIGKILL");
    const rs = await w.waitReplicas(
      (rs) => rs.find((r) => r.id === pending.id)?.phase === "STARTING" && rs.some((r) => r.id === 3),
      "the pending replica STARTING on the L4",
    );
    expect(rs.find((r) => r.id === onGpu.id)).toMatchObject({ phase: "FAILED", reason: "ProcessExited" });
    expect(rs.find((r) => r.id === pending.id)).toMatchObject({ accelerator: "L4", gpu_indices: [0] });
    expect(rs.find((r) => r.id === 3)).toMatchObject({ phase: "PENDING", reason: "NoAcceleratorFree" });
  });
});
