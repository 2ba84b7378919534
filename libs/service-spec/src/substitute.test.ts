// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings test ${VAR} substitution
import { describe, expect, it } from "vitest";
import { substitute } from "./substitute.js";

const vars = { AUTH_TOKEN: "t0k", N: "3", MODEL: "llama", A: "x" };

describe("substitute", () => {
  it.each([
    { name: "$VAR", input: "Bearer $AUTH_TOKEN", want: "Bearer t0k" },
    { name: "${VAR}", input: "Bearer ${AUTH_TOKEN}", want: "Bearer t0k" },
    { name: "twice", input: "$A-$A", want: "x-x" },
    { name: "unknown stays literal", input: "Bearer $NOPE", want: "Bearer $NOPE" },
    { name: "unknown braced stays literal", input: "${NOPE}", want: "${NOPE}" },
    { name: "longest name wins", input: "$AUTH_TOKENS", want: "$AUTH_TOKENS" },
    { name: "SkyServe quirk: `$A}` eats the brace", input: "$A}", want: "x" },
    { name: "SkyServe quirk: `${A` without closing", input: "${A", want: "x" },
    { name: "lone dollar", input: "$ 5", want: "$ 5" },
    { name: "digit start is not a name", input: "$1", want: "$1" },
  ])("$name", ({ input, want }) => {
    expect(substitute({ v: input }, vars, "service").value).toEqual({ v: want });
  });

  it("templates only string values: `replicas: $N` becomes the string '3'", () => {
    const r = substitute({ replicas: "$N", ports: 8080, ok: true }, vars, "service");
    expect(r.value).toEqual({ replicas: "3", ports: 8080, ok: true });
  });

  it("leaves keys alone and walks lists and nested maps", () => {
    const r = substitute({ $A: ["$A", { k: "${MODEL}" }] }, vars, "service");
    expect(r.value).toEqual({ $A: ["x", { k: "llama" }] });
  });

  it("records where each name was used and which names are unknown", () => {
    const r = substitute(
      {
        readiness_probe: { headers: { Authorization: "Bearer $AUTH_TOKEN" }, post_data: { m: ["$MODEL"] } },
        x: "$X $Y",
      },
      vars,
      "service",
    );
    expect(r.used.get("AUTH_TOKEN")).toEqual(["service.readiness_probe.headers.Authorization"]);
    expect(r.used.get("MODEL")).toEqual(["service.readiness_probe.post_data.m[0]"]);
    expect([...r.unknown].sort()).toEqual(["X", "Y"]);
  });

  it("does not expand `$&`-style patterns inside values", () => {
    expect(substitute("$A", { A: "$&$1" }, "s").value).toBe("$&$1");
  });
});
