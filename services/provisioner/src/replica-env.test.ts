import { describe, expect, it } from "vitest";
import { buildReplicaEnv } from "./replica-env.js";

const base = {
  base: { PATH: "/usr/bin", HOME: "/root", NATS_PASS: "bus-secret", NATS_URL: "nats://x" },
  specEnvs: { AUTH_TOKEN: "t0k", MODEL_NAME: "m" },
  service: "llm",
  id: 3,
  port: 8001,
  gpuIndices: [] as number[],
  dir: "/state/replicas/llm/3",
  extraPath: ["/repo/node_modules/.bin"],
};

describe("buildReplicaEnv", () => {
  it("spec envs + YARD_* + PATH with the extra dirs first; no provisioner secrets", () => {
    expect(buildReplicaEnv(base)).toEqual({
      PATH: "/repo/node_modules/.bin:/usr/bin",
      HOME: "/root",
      AUTH_TOKEN: "t0k",
      MODEL_NAME: "m",
      YARD_SERVICE: "llm",
      YARD_REPLICA_ID: "3",
      YARD_REPLICA_PORT: "8001",
      YARD_REPLICA_DIR: "/state/replicas/llm/3",
      CUDA_VISIBLE_DEVICES: "",
    });
  });

  it.each([
    { name: "CPU replica → empty string", gpus: [], cvd: "" },
    { name: "one GPU", gpus: [0], cvd: "0" },
    { name: "two GPUs", gpus: [1, 2], cvd: "1,2" },
  ])("CUDA_VISIBLE_DEVICES: $name", ({ gpus, cvd }) => {
    expect(buildReplicaEnv({ ...base, gpuIndices: gpus }).CUDA_VISIBLE_DEVICES).toBe(cvd);
  });

  it("the spec cannot override YARD_* but may set PATH (extra dirs stay first)", () => {
    const env = buildReplicaEnv({ ...base, specEnvs: { YARD_REPLICA_PORT: "1", PATH: "/opt/bin" } });
    expect(env.YARD_REPLICA_PORT).toBe("8001");
    expect(env.PATH).toBe("/repo/node_modules/.bin:/opt/bin");
  });
});
