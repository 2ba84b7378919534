import { describe, expect, it } from "vitest";
import { maskSpec, maskText, secretValues } from "./mask.js";
import { fixedReplicaPolicy, ResolvedSpec } from "./spec.js";

const spec = ResolvedSpec.parse({
  schema: 1,
  name: "llm",
  envs: { AUTH_TOKEN: "t0k-secret", MODEL_NAME: "m", HF_TOKEN: "hf-abc" },
  secret_names: ["AUTH_TOKEN", "HF_TOKEN"],
  resources: { accelerators: [], ports: [8000], other: {} },
  setup: "login hf-abc",
  run: "serve --api-key t0k-secret",
  workdir: null,
  service: {
    readiness_probe: {
      path: "/v1/models",
      post_data: { key: "t0k-secret" },
      initial_delay_seconds: 1200,
      timeout_seconds: 15,
      headers: { Authorization: "Bearer t0k-secret" },
    },
    replica_policy: fixedReplicaPolicy(1),
    load_balancing_policy: "least_load",
    port: 8000,
    tls: null,
  },
  ignored_keys: [],
  warnings: [],
});

describe("maskSpec", () => {
  const masked = maskSpec(spec);
  it("masks secret envs and keeps the others", () => {
    expect(masked.envs).toEqual({ AUTH_TOKEN: "***", MODEL_NAME: "m", HF_TOKEN: "***" });
  });
  it("shows the probe header as Bearer ***", () => {
    expect(masked.service.readiness_probe.headers.Authorization).toBe("Bearer ***");
  });
  it("leaves no secret anywhere in the printed spec", () => {
    const text = JSON.stringify(masked);
    expect(text).not.toContain("t0k-secret");
    expect(text).not.toContain("hf-abc");
  });
  it("does not change the original", () => {
    expect(spec.service.readiness_probe.headers.Authorization).toBe("Bearer t0k-secret");
  });
  it("masks overlapping secrets fully (longest first)", () => {
    expect(maskText("a-abc-abcdef", ["abcdef", "abc"])).toBe("a-***-***");
  });
  it("masks a short secret in setup/run only where it is a whole token", () => {
    const short = ResolvedSpec.parse({
      ...spec,
      envs: { AUTH_TOKEN: "t0k", HF_TOKEN: "h" },
      setup: "python -c \"import huggingface_hub; huggingface_hub.login('h')\"",
      run: "echo hi; python -m vllm --api-key t0k",
      service: {
        ...spec.service,
        readiness_probe: {
          ...spec.service.readiness_probe,
          headers: { Authorization: "Bearer t0k" },
          post_data: { h: ["h", 1, "ph"], n: 8000 },
        },
      },
    });
    const m = maskSpec(short);
    expect(m.setup).toBe("python -c \"import huggingface_hub; huggingface_hub.login('***')\"");
    expect(m.run).toBe("echo hi; python -m vllm --api-key ***");
    expect(m.service.readiness_probe.headers.Authorization).toBe("Bearer ***");
    expect(m.service.readiness_probe.post_data).toEqual({ "***": ["***", 1, "ph"], n: 8000 });
  });
  it("masks a number in post_data that shows a secret, keeping the JSON valid", () => {
    const withNumber = ResolvedSpec.parse({
      ...spec,
      envs: { AUTH_TOKEN: "1" },
      secret_names: ["AUTH_TOKEN"],
      service: {
        ...spec.service,
        readiness_probe: { ...spec.service.readiness_probe, post_data: { n: 1, m: 12 } },
      },
    });
    expect(maskSpec(withNumber).service.readiness_probe.post_data).toEqual({ n: "***", m: 12 });
  });
});

describe("secretValues", () => {
  it("drops empty and duplicate values, longest first", () => {
    const envs = { A: "ab", B: "", C: "abcd", D: "ab", E: "x", F: "not-secret" };
    expect(secretValues({ envs, secret_names: ["A", "B", "C", "D", "E"] })).toEqual(["abcd", "ab", "x"]);
  });
});

describe("maskText", () => {
  it.each([
    {
      name: "short secret inside a word is not masked",
      text: "python shh",
      secrets: ["h"],
      want: "python shh",
    },
    {
      name: "short secret as a whole token is masked",
      text: "h; login('h') --k=h",
      secrets: ["h"],
      want: "***; login('***') --k=***",
    },
    { name: "Bearer h", text: "Authorization: Bearer h", secrets: ["h"], want: "Authorization: Bearer ***" },
    {
      name: "short secret at the ends of the text",
      text: "t0k and t0k",
      secrets: ["t0k"],
      want: "*** and ***",
    },
    {
      name: "short secret next to a digit is inside a token",
      text: "t0k1 2t0k",
      secrets: ["t0k"],
      want: "t0k1 2t0k",
    },
    {
      name: "short secret next to a non-ASCII letter is inside a word",
      text: "éh hé h",
      secrets: ["h"],
      want: "éh hé ***",
    },
    {
      name: "short secret with punctuation at its edge needs no boundary there",
      text: "x-a+ a+b? here",
      secrets: ["-a+", "a+b?"],
      want: "x*** *** here",
    },
    {
      name: "long secret masked inside text",
      text: "key=abcdefgh12;xabcdefgh12x",
      secrets: ["abcdefgh12"],
      want: "key=***;x***x",
    },
    {
      name: "a secret of exactly 8 characters counts as long",
      text: "x12345678y",
      secrets: ["12345678"],
      want: "x***y",
    },
    {
      name: "overlapping secrets are masked as one, whatever their order",
      text: "id aaaa1111bbbb2222cccc end",
      secrets: ["aaaa1111bbbb", "bbbb2222cccc"],
      want: "id *** end",
    },
    {
      name: "a short secret overlapping a long one",
      text: "tok tokenvalue-123",
      secrets: ["tok", "tokenvalue-123"],
      want: "*** ***",
    },
    {
      name: "repeated self-overlapping secret masked as a whole",
      text: "[abcabcabcabc]",
      secrets: ["abcabcabc"],
      want: "[***]",
    },
    {
      name: "touching secrets stay two masks",
      text: "abcdefghabcdefgh",
      secrets: ["abcdefgh"],
      want: "******",
    },
    {
      name: "regex characters are literal",
      text: "pw a.*b here axxb",
      secrets: ["a.*b"],
      want: "pw *** here axxb",
    },
    {
      name: "empty and duplicate secrets are ignored",
      text: "plain h",
      secrets: ["", "h", "h"],
      want: "plain ***",
    },
    { name: "no secrets", text: "plain", secrets: [], want: "plain" },
  ])("$name", ({ text, secrets, want }) => {
    expect(maskText(text, secrets)).toBe(want);
  });
});
