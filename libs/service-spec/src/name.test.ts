import { describe, expect, it } from "vitest";
import { nameFromFile, resolveName } from "./name.js";

describe("nameFromFile", () => {
  it.each([
    ["examples/vllm-auth.yaml", "vllm-auth"],
    ["My_Service.yml", "my-service"],
    ["C:\\work\\llama2.yaml", "llama2"],
    ["examples__serve__gorilla__gorilla.yaml", "examples-serve-gorilla-gorilla"],
    ["123-svc.yaml", "svc"],
    ["svc.v2.yaml", "svc-v2"],
    [`${"a".repeat(80)}.yaml`, "a".repeat(63)],
    ["__.yaml", undefined],
    ["123.yaml", undefined],
  ])("%s → %s", (file, want) => {
    expect(nameFromFile(file)).toBe(want);
  });
});

describe("resolveName", () => {
  it.each([
    { name: "-n wins", flag: "cli", yaml: "yml", file: "f.yaml", want: "cli" },
    { name: "then YAML name", flag: undefined, yaml: "yml", file: "f.yaml", want: "yml" },
    { name: "then file name", flag: undefined, yaml: undefined, file: "dir/f.yaml", want: "f" },
  ])("$name", ({ flag, yaml, file, want }) => {
    expect(resolveName(flag, yaml, file)).toEqual({ name: want, issues: [] });
  });

  it.each([
    { name: "invalid -n", flag: "Bad_Name", yaml: undefined, file: undefined, says: "from -n" },
    { name: "invalid YAML name", flag: undefined, yaml: "my.svc", file: "ok.yaml", says: "from name:" },
    { name: "no name anywhere", flag: undefined, yaml: undefined, file: undefined, says: "-n NAME" },
    { name: "underivable file name", flag: undefined, yaml: undefined, file: "__.yaml", says: "-n NAME" },
  ])("$name → issue at `name`", ({ flag, yaml, file, says }) => {
    const r = resolveName(flag, yaml, file);
    expect(r.name).toBeUndefined();
    expect(r.issues[0]?.path).toBe("name");
    expect(r.issues[0]?.message).toContain(says);
  });
});
