import { describe, expect, it } from "vitest";
import { z } from "zod";
import { bool, CommonEnv, millis, parseBool, parseEnv, port } from "./config.js";

const Schema = z.object({
  ...CommonEnv,
  YARD_X_PORT: port(8080),
  YARD_X_MS: millis(2000),
  YARD_X_ON: bool(true),
});

describe("parseEnv", () => {
  it.each([
    {
      name: "defaults",
      env: {},
      want: { NATS_URL: "nats://127.0.0.1:4222", YARD_X_PORT: 8080, YARD_X_MS: 2000 },
    },
    { name: "empty string means default", env: { YARD_X_PORT: "" }, want: { YARD_X_PORT: 8080 } },
    {
      name: "coerces numbers",
      env: { YARD_X_PORT: "0", YARD_X_MS: "15" },
      want: { YARD_X_PORT: 0, YARD_X_MS: 15 },
    },
    { name: "flag default", env: {}, want: { YARD_X_ON: true } },
    { name: "flag 0", env: { YARD_X_ON: "0" }, want: { YARD_X_ON: false } },
    { name: "flag No in any case", env: { YARD_X_ON: "No" }, want: { YARD_X_ON: false } },
    { name: "flag empty means default", env: { YARD_X_ON: "" }, want: { YARD_X_ON: true } },
  ])("$name", ({ env, want }) => {
    expect(parseEnv(Schema, env)).toMatchObject(want);
  });

  it.each([
    { name: "port out of range", env: { YARD_X_PORT: "70000" }, field: "YARD_X_PORT" },
    { name: "not a number", env: { YARD_X_MS: "soon" }, field: "YARD_X_MS" },
    { name: "bad log level", env: { LOG_LEVEL: "loud" }, field: "LOG_LEVEL" },
    { name: "a flag that is no flag", env: { YARD_X_ON: "off-ish" }, field: "YARD_X_ON" },
  ])("rejects $name naming the variable", ({ env, field }) => {
    expect(() => parseEnv(Schema, env)).toThrow(
      expect.objectContaining({ code: "SY_ERR_CONFIG", message: expect.stringContaining(field) }),
    );
  });

  it("freezes the result", () => {
    expect(Object.isFrozen(parseEnv(Schema, {}))).toBe(true);
  });
});

describe("parseBool", () => {
  it.each([
    ["true", true],
    ["TRUE", true],
    ["1", true],
    [" yes ", true],
    ["false", false],
    ["0", false],
    ["no", false],
    ["off", null],
    ["2", null],
    ["", null],
  ])("%j → %j", (raw, want) => {
    expect(parseBool(raw)).toBe(want);
  });
});
