import { describe, expect, it } from "vitest";
import { z } from "zod";
import { loadConfigOrExit } from "./boot.js";
import { CommonEnv, parseEnv, port } from "./config.js";
import { logSink } from "./log-sink.test-util.js";
import { createLogger } from "./logger.js";

const Schema = z.object({ ...CommonEnv, YARD_X_PORT: port(1) });

function setup() {
  const { lines, dest: destination } = logSink();
  const exits: number[] = [];
  const exit = (code: number): never => {
    exits.push(code);
    throw new Error(`exit ${code}`);
  };
  return { lines, exits, exit, logger: createLogger({ name: "t", destination }) };
}

describe("loadConfigOrExit", () => {
  it("returns the config and applies its LOG_LEVEL, without exiting", () => {
    const s = setup();
    const cfg = loadConfigOrExit(s.logger, () => parseEnv(Schema, { LOG_LEVEL: "warn" }), s.exit);
    expect(cfg.YARD_X_PORT).toBe(1);
    expect(s.logger.level).toBe("warn");
    expect(s.exits).toEqual([]);
  });

  it("logs one fatal line naming the variable, not its value, then exits 1 through the given exit", () => {
    const s = setup();
    const load = () => parseEnv(Schema, { YARD_X_PORT: "secret-ish-99999" });
    expect(() => loadConfigOrExit(s.logger, load, s.exit)).toThrow("exit 1");
    expect(s.exits).toEqual([1]);
    expect(s.lines).toHaveLength(1);
    expect(s.lines[0]).toContain('"invalid configuration"');
    expect(s.lines[0]).toContain("YARD_X_PORT");
    expect(s.lines[0]).not.toContain("secret-ish-99999");
  });
});
