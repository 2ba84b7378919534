import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ErrorCode, formatError, YardError } from "./errors.js";

describe("error codes", () => {
  const doc = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");
  const documented = [...doc.matchAll(/^\| `(SY_ERR_[A-Z_]+)`/gm)].map((m) => m[1]);

  it("docs/errors.md lists exactly the codes in contracts", () => {
    expect([...documented].sort()).toEqual([...ErrorCode.options].sort());
  });

  it("round-trips through its wire body", () => {
    const e = new YardError("SY_ERR_SPEC_INVALID", "spec is invalid", [
      { path: "service.replicas", message: "bad" },
    ]);
    const back = YardError.fromBody(e.toBody());
    expect(back).toMatchObject({ code: "SY_ERR_SPEC_INVALID", issues: [{ path: "service.replicas" }] });
  });

  it.each([
    { name: "no issues", e: { message: "m" }, want: "m" },
    {
      name: "root path",
      e: { message: "m", issues: [{ path: "", message: "x" }] },
      want: "m\n  - (root): x",
    },
    {
      name: "named path",
      e: { message: "m", issues: [{ path: "a.b", message: "x" }] },
      want: "m\n  - a.b: x",
    },
  ])("formats $name", ({ e, want }) => {
    expect(formatError(e)).toBe(want);
  });
});
