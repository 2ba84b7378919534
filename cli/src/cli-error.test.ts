import { YardError } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { describeError, UsageError } from "./cli-error.js";

describe("describeError", () => {
  it.each([
    { name: "usage error → 2", err: new UsageError("give a NAME"), text: "error: give a NAME", code: 2 },
    {
      name: "YardError → 1 with code and every issue path",
      err: new YardError("SY_ERR_SPEC_INVALID", "the service spec is invalid (2 problems)", [
        { path: "service.replicas", message: "must be >= 0" },
        { path: "name", message: "no service name" },
      ]),
      text: "error [SY_ERR_SPEC_INVALID]: the service spec is invalid (2 problems)\n  - service.replicas: must be >= 0\n  - name: no service name",
      code: 1,
    },
    { name: "other errors → 1", err: new Error("boom"), text: "error: boom", code: 1 },
  ])("$name", ({ err, text, code }) => {
    expect(describeError(err)).toEqual({ text, code });
  });
});
