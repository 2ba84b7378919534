import { YardError } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { parseYaml } from "./parse-yaml.js";

function fail(text: string): YardError {
  try {
    parseYaml(text, "svc.yaml");
  } catch (e) {
    if (e instanceof YardError) return e;
    throw e;
  }
  throw new Error("expected a YardError");
}

describe("parseYaml", () => {
  it.each([
    { name: "unclosed flow sequence", text: "service:\n  replicas: [1, 2\nrun: x\n", at: "line 3, column 1" },
    { name: "bad indentation", text: "service:\n  replicas: 1\n    x: 2\n", at: "line 2, column 13" },
    { name: "duplicate key", text: "run: a\nrun: b\n", at: "line 2, column 1" },
  ])("syntax error: $name → SY_ERR_SPEC_YAML with line and column", ({ text, at }) => {
    const e = fail(text);
    expect(e.code).toBe("SY_ERR_SPEC_YAML");
    expect(e.message).toContain(`svc.yaml: YAML error at ${at}`);
    expect(e.issues[0]?.path).toBe(at);
  });

  it("leaves out the source snippet, which could hold a secret", () => {
    const e = fail("secrets:\n  TOKEN: s3cr3t-value\n  X: [\n");
    expect(e.code).toBe("SY_ERR_SPEC_YAML");
    expect(JSON.stringify(e.toBody())).not.toContain("s3cr3t-value");
  });

  it.each([
    {
      name: "two documents (a DAG)",
      text: "name: a\nrun: x\n---\nname: b\nrun: y\n",
      msg: "2 YAML documents",
    },
    { name: "a list at the top", text: "- a\n- b\n", msg: "must be a mapping" },
    { name: "a scalar at the top", text: "hello\n", msg: "must be a mapping" },
    { name: "an empty file", text: "# only a comment\n", msg: "must be a mapping" },
  ])("rejects $name", ({ text, msg }) => {
    const e = fail(text);
    expect(e.code).toBe("SY_ERR_SPEC_INVALID");
    expect(e.message).toContain(msg);
  });

  it("accepts a single document with a trailing separator", () => {
    expect(parseYaml("run: x\n---\n").data).toEqual({ run: "x" });
  });

  it.each([
    { name: "float keeps its zeros", key: "V", text: "envs:\n  V: 3.10\n", want: "3.10" },
    { name: "octal-looking keeps its form", key: "V", text: "envs:\n  V: 010\n", want: "010" },
    { name: "boolean as written", key: "V", text: "envs:\n  V: True\n", want: "True" },
    { name: "not a scalar", key: "V", text: "envs:\n  V: [1]\n", want: undefined },
    { name: "absent key", key: "W", text: "envs:\n  V: 1\n", want: undefined },
  ])("literal(): $name", ({ key, text, want }) => {
    expect(parseYaml(text).literal("envs", key)).toBe(want);
  });
});
