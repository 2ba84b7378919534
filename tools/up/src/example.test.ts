import { describe, expect, it } from "vitest";
import { newToken } from "./example.js";

describe("newToken", () => {
  it("is 64 hex characters, so `--api-key $AUTH_TOKEN` never reads it as an option", () => {
    const tokens = Array.from({ length: 500 }, newToken);
    for (const t of tokens) expect(t).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
  });
});
