import { describe, expect, it } from "vitest";
import { UsageError } from "./cli-error.js";
import { collectKeyValues } from "./kv-args.js";

describe("collectKeyValues", () => {
  const callerEnv = { HF_TOKEN: "from-shell", EMPTY: "" };
  it.each([
    { name: "K=V", args: ["A=1"], want: { A: "1" } },
    { name: "value may hold '='", args: ["A=x=y"], want: { A: "x=y" } },
    { name: "empty value", args: ["A="], want: { A: "" } },
    { name: "bare K from the caller's environment", args: ["HF_TOKEN"], want: { HF_TOKEN: "from-shell" } },
    { name: "bare K set empty in the environment", args: ["EMPTY"], want: { EMPTY: "" } },
    { name: "later flag wins", args: ["A=1", "A=2"], want: { A: "2" } },
  ])("$name", ({ args, want }) => {
    expect(collectKeyValues(args, "--env", callerEnv)).toEqual(want);
  });

  it.each([
    {
      name: "bare K not set",
      args: ["MISSING"],
      msg: /--env MISSING: MISSING is not set in your environment/,
    },
    { name: "invalid name", args: ["1A=x"], msg: /'1A' is not a valid env var name/ },
  ])("usage error: $name", ({ args, msg }) => {
    const run = () => collectKeyValues(args, "--env", callerEnv);
    expect(run).toThrow(UsageError);
    expect(run).toThrow(msg);
  });

  it("never puts the value of a bad flag in the message", () => {
    expect(() => collectKeyValues(["bad name=s3cret"], "--secret", {})).toThrow(/^(?!.*s3cret)/s);
  });
});
