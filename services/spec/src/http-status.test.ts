import type { ErrorCode } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { httpStatusOf } from "./http-status.js";

describe("httpStatusOf", () => {
  it.each<{ code: ErrorCode; status: number }>([
    { code: "SY_ERR_SPEC_YAML", status: 400 },
    { code: "SY_ERR_SPEC_INVALID", status: 400 },
    { code: "SY_ERR_ENV_NULL", status: 400 },
    { code: "SY_ERR_BAD_REQUEST", status: 400 },
    { code: "SY_ERR_UNAUTHORIZED", status: 401 },
    { code: "SY_ERR_FORBIDDEN", status: 403 },
    { code: "SY_ERR_NOT_FOUND", status: 404 },
    { code: "SY_ERR_TOO_LARGE", status: 413 },
    { code: "SY_ERR_NO_RESPONDER", status: 503 },
    { code: "SY_ERR_TIMEOUT", status: 504 },
    { code: "SY_ERR_INTERNAL", status: 500 },
  ])("$code → $status", ({ code, status }) => {
    expect(httpStatusOf(code)).toBe(status);
  });
});
