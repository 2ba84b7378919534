import { describe, expect, it } from "vitest";
import { definedOnly, type EnvMap, mergeLayers, nullEnvError, nullIssues } from "./env-merge.js";

describe("mergeLayers", () => {
  it.each<{ name: string; layers: (EnvMap | undefined)[]; want: EnvMap }>([
    { name: "YAML alone", layers: [{ A: "y" }], want: { A: "y" } },
    { name: "env file over YAML", layers: [{ A: "y" }, { A: "f" }], want: { A: "f" } },
    { name: "--env over env file", layers: [{ A: "y" }, { A: "f" }, { A: "e" }], want: { A: "e" } },
    { name: "--env over YAML, no file", layers: [{ A: "y" }, undefined, { A: "e" }], want: { A: "e" } },
    { name: "a null filled by --env", layers: [{ A: null }, undefined, { A: "e" }], want: { A: "e" } },
    {
      name: "new keys added",
      layers: [{ A: "y" }, { B: "f" }, { C: "e" }],
      want: { A: "y", B: "f", C: "e" },
    },
    { name: "empty string is a value", layers: [{ A: null }, { A: "" }], want: { A: "" } },
  ])("$name", ({ layers, want }) => {
    expect(mergeLayers(...layers)).toEqual(want);
  });
});

describe("nullIssues / nullEnvError", () => {
  it.each<{ name: string; envs: EnvMap; secrets: EnvMap; paths: string[] }>([
    { name: "no nulls", envs: { A: "1" }, secrets: {}, paths: [] },
    { name: "null env", envs: { A: null }, secrets: {}, paths: ["envs.A"] },
    { name: "null secret", envs: {}, secrets: { S: null }, paths: ["secrets.S"] },
    { name: "null env given as a secret", envs: { A: null }, secrets: { A: "s" }, paths: [] },
    {
      name: "several",
      envs: { A: null, B: "x", C: null },
      secrets: { S: null },
      paths: ["envs.A", "envs.C", "secrets.S"],
    },
  ])("$name", ({ envs, secrets, paths }) => {
    expect(nullIssues(envs, secrets).map((i) => i.path)).toEqual(paths);
  });

  it("names the variable and says how to pass it", () => {
    const e = nullEnvError(nullIssues({ AUTH_TOKEN: null }, {}));
    expect(e.code).toBe("SY_ERR_ENV_NULL");
    expect(e.message).toContain("'AUTH_TOKEN'");
    expect(e.message).toContain("--env AUTH_TOKEN=VALUE");
    expect(e.message).toContain("--env-file");
  });

  it("names every variable when several are missing", () => {
    const e = nullEnvError(nullIssues({ A: null, B: null }, { S: null }));
    expect(e.message).toContain("A, B, S");
    expect(e.issues).toHaveLength(3);
  });

  it("definedOnly drops nulls", () => {
    expect(definedOnly({ A: "1", B: null, C: "" })).toEqual({ A: "1", C: "" });
  });
});
