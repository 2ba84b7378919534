import { describe, expect, it } from "vitest";
import { isAuthorized, isGuarded } from "./auth.js";

describe("isAuthorized (vLLM's bearer check)", () => {
  it.each([
    { name: "exact bearer", header: "Bearer s3cret", ok: true },
    { name: "scheme in any case, as vLLM", header: "bearer s3cret", ok: true },
    { name: "missing header", header: undefined, ok: false },
    { name: "wrong token", header: "Bearer nope", ok: false },
    { name: "token with a suffix", header: "Bearer s3cretX", ok: false },
    { name: "two spaces (token starts with a space)", header: "Bearer  s3cret", ok: false },
    { name: "basic scheme", header: "Basic s3cret", ok: false },
    { name: "bare token", header: "s3cret", ok: false },
  ])("$name → $ok", ({ header, ok }) => {
    expect(isAuthorized(header, "s3cret")).toBe(ok);
  });
});

describe("isGuarded", () => {
  it.each([
    { method: "GET", path: "/v1/models", guarded: true },
    { method: "POST", path: "/v1/chat/completions?x=1", guarded: true },
    { method: "OPTIONS", path: "/v1/models", guarded: false },
    { method: "GET", path: "/health", guarded: false },
    { method: "GET", path: "/echo/v1/models", guarded: false },
    { method: "GET", path: "/v10", guarded: false },
  ])("$method $path → $guarded", ({ method, path, guarded }) => {
    expect(isGuarded(method, path)).toBe(guarded);
  });
});
