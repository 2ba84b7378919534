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
      PYTHONUNBUFFERED: "1",
      YARD_SERVICE: "llm",
      YARD_REPLICA_ID: "3",
      SKYPILOT_SERVE_REPLICA_ID: "3",
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

  it("the spec cannot override YARD_* or SkyServe's replica id but may set PATH (extra dirs stay first)", () => {
    const env = buildReplicaEnv({
      ...base,
      specEnvs: { YARD_REPLICA_PORT: "1", SKYPILOT_SERVE_REPLICA_ID: "9", PATH: "/opt/bin" },
    });
    expect(env.YARD_REPLICA_PORT).toBe("8001");
    expect(env.SKYPILOT_SERVE_REPLICA_ID).toBe("3");
    expect(env.PATH).toBe("/repo/node_modules/.bin:/opt/bin");
  });

  it.each<{ name: string; specEnvs: Record<string, string>; host?: string; want: string }>([
    { name: "unset: output unbuffered", specEnvs: {}, want: "1" },
    { name: "the spec's own value wins", specEnvs: { PYTHONUNBUFFERED: "" }, want: "" },
    { name: "even from the host env: only the spec sets it", specEnvs: {}, host: "0", want: "1" },
  ])("PYTHONUNBUFFERED: $name", ({ specEnvs, host, want }) => {
    const env = buildReplicaEnv({ ...base, base: { ...base.base, PYTHONUNBUFFERED: host }, specEnvs });
    expect(env.PYTHONUNBUFFERED).toBe(want);
  });
});
