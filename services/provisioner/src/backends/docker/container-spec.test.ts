import { specRecord } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import {
  chooseImage,
  containerCreateOptions,
  envFileText,
  LABEL,
  replicaOfLabels,
} from "./container-spec.js";

describe("chooseImage", () => {
  it.each([
    {
      name: "SkyPilot's docker: syntax",
      id: "docker:vllm/vllm-openai:v0.6.0",
      def: undefined,
      want: "vllm/vllm-openai:v0.6.0",
    },
    { name: "a local tag", id: "docker:switchyard:local", def: "other:1", want: "switchyard:local" },
    { name: "no image_id: the default", id: null, def: "switchyard:local", want: "switchyard:local" },
    { name: "absent: the default", id: undefined, def: "img:2", want: "img:2" },
  ])("$name", ({ id, def, want }) => {
    expect(chooseImage(id, def)).toEqual({ ok: true, image: want });
  });

  it.each([
    { name: "no image_id, no default", id: undefined, def: undefined, msg: /YARD_DOCKER_IMAGE is unset/ },
    { name: "a cloud image", id: "ami-0123", def: "x:1", msg: /is not docker:<image>/ },
    {
      name: "a per-region mapping",
      id: { "us-east-1": "docker:a" },
      def: "x:1",
      msg: /is not docker:<image>/,
    },
    { name: "not an image name", id: "docker:$(rm -rf /)", def: undefined, msg: /is not an image name/ },
    { name: "empty", id: "docker:", def: undefined, msg: /is not an image name/ },
  ])("$name → a clear refusal", ({ id, def, msg }) => {
    const c = chooseImage(id, def);
    expect(c.ok).toBe(false);
    expect(!c.ok && c.message).toMatch(msg);
  });
});

describe("envFileText", () => {
  it("single-quotes every value so that none is run; drops names that are not identifiers", () => {
    expect(envFileText({ A: "plain", B: "it's $(x) `y`\nz", "BAD-NAME": "v", _ok1: "" })).toBe(
      "A='plain'\nB='it'\\''s $(x) `y`\nz'\n_ok1=''\n",
    );
  });
});

describe("containerCreateOptions", () => {
  const spec = specRecord({ name: "llm", run: "serve --api-key $TOKEN" }).spec;
  const base = {
    scope: "abc123",
    service: "llm",
    id: 3,
    revision: 2,
    image: "switchyard:local",
    boxDir: "/state/docker/llm/3/box",
    envFile: "/state/docker/llm/3/replica.env",
    network: "host",
    user: "0:0",
    gpuDriver: "nvidia" as const,
    gpuIndices: [] as number[],
    spec: { ...spec, envs: { TOKEN: "sekret-value" } },
  };

  it("labels name the replica, no Env, a fixed Cmd: no secret anywhere in the request", () => {
    const o = containerCreateOptions(base);
    expect(o.name).toBe("yard-abc123-llm-3");
    expect(o.Labels).toEqual({
      [LABEL.scope]: "abc123",
      [LABEL.service]: "llm",
      [LABEL.replica]: "3",
      [LABEL.revision]: "2",
    });
    expect(o.Env).toEqual([]);
    expect(o.Cmd).toEqual(["/yard/entry.sh"]);
    expect(o.HostConfig).toMatchObject({
      NetworkMode: "host",
      Init: true,
      Binds: ["/state/docker/llm/3/box:/yard", "/state/docker/llm/3/replica.env:/run/yard/replica.env:ro"],
      DeviceRequests: [],
    });
    expect(JSON.stringify(o)).not.toContain("sekret-value");
  });

  it.each([
    {
      name: "GPUs → an NVIDIA device request for exactly those",
      driver: "nvidia" as const,
      gpus: [1, 2],
      want: [{ Driver: "nvidia", DeviceIDs: ["1", "2"], Capabilities: [["gpu"]] }],
    },
    { name: "CPU replica: none", driver: "nvidia" as const, gpus: [], want: [] },
    { name: "driver none (declared stand-in GPUs): none", driver: "none" as const, gpus: [0], want: [] },
  ])("$name", ({ driver, gpus, want }) => {
    const o = containerCreateOptions({ ...base, gpuDriver: driver, gpuIndices: gpus });
    expect(o.HostConfig.DeviceRequests).toEqual(want);
  });
});

describe("replicaOfLabels", () => {
  const ours = { [LABEL.scope]: "s1", [LABEL.service]: "llm", [LABEL.replica]: "4", [LABEL.revision]: "2" };
  it.each([
    { name: "ours", labels: ours, want: { service: "llm", id: 4, revision: 2 } },
    { name: "another provisioner's scope", labels: { ...ours, [LABEL.scope]: "s2" }, want: null },
    { name: "no labels", labels: undefined, want: null },
    { name: "a broken replica id", labels: { ...ours, [LABEL.replica]: "x" }, want: null },
    { name: "replica 0", labels: { ...ours, [LABEL.replica]: "0" }, want: null },
  ])("$name", ({ labels, want }) => {
    expect(replicaOfLabels(labels, "s1")).toEqual(want);
  });
});
