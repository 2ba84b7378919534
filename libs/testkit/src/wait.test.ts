import { describe, expect, it } from "vitest";
import { keyMatches } from "./wait.js";

describe("keyMatches", () => {
  it("matches KV keys as NATS subjects: `*` one token, `>` one or more", () => {
    expect(keyMatches(">", "a")).toBe(true);
    expect(keyMatches(">", "a.b.c")).toBe(true);
    expect(keyMatches("svc.*", "svc.1")).toBe(true);
    expect(keyMatches("svc.*", "svc")).toBe(false);
    expect(keyMatches("svc.*", "svc.1.x")).toBe(false);
    expect(keyMatches("svc.*", "svc-2.1")).toBe(false);
    expect(keyMatches("svc.>", "svc.1.x")).toBe(true);
    expect(keyMatches("svc.>", "svc")).toBe(false);
    expect(keyMatches("svc.1", "svc.1")).toBe(true);
    expect(keyMatches("svc.1", "svc.10")).toBe(false);
  });
});
