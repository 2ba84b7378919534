import { describe, expect, it } from "vitest";
import { SECRET_NAME_RE, secretNames } from "./secrets.js";

describe("SECRET_NAME_RE", () => {
  it.each([
    ["HF_TOKEN", true],
    ["AUTH_TOKEN", true],
    ["DB_PASSWORD", true],
    ["PASSWD", true],
    ["OPENAI_API_KEY", true],
    ["APIKEY", true],
    ["AWS_SECRET_ACCESS_KEY", true],
    ["GCP_CREDENTIALS", true],
    ["SSH_PRIVATE_KEY", true],
    ["MODEL_NAME", false],
    ["PORT", false],
    ["KEYBOARD", false],
  ])("%s → %s", (name, secret) => {
    expect(SECRET_NAME_RE.test(name)).toBe(secret);
  });
});

describe("secretNames", () => {
  it.each([
    {
      name: "declared secrets",
      src: { secretKeys: ["S"], envNames: [], substituted: new Map() },
      want: ["S"],
    },
    {
      name: "credential-looking env",
      src: { secretKeys: [], envNames: ["HF_TOKEN", "MODEL"], substituted: new Map() },
      want: ["HF_TOKEN"],
    },
    {
      name: "substituted into a probe header",
      src: {
        secretKeys: [],
        envNames: ["KEY"],
        substituted: new Map([["KEY", ["service.readiness_probe.headers.X-Key"]]]),
      },
      want: ["KEY"],
    },
    {
      name: "substituted into post_data",
      src: {
        secretKeys: [],
        envNames: ["M"],
        substituted: new Map([["M", ["service.readiness_probe.post_data.model"]]]),
      },
      want: ["M"],
    },
    {
      name: "substituted elsewhere is not a secret",
      src: {
        secretKeys: [],
        envNames: ["P"],
        substituted: new Map([["P", ["service.readiness_probe.path"]]]),
      },
      want: [],
    },
  ])("$name", ({ src, want }) => {
    expect(secretNames(src)).toEqual(want);
  });
});
