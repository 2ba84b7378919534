import { describe, expect, it } from "vitest";
import { z } from "zod";
import { loadConfigOrExit, startOrExit } from "./boot.js";
import { CommonEnv, parseEnv, port } from "./config.js";
import { logSink } from "./log-sink.test-util.js";
import { createLogger } from "./logger.js";
import { removesSignalListenersAfterEach } from "./signal-listeners.test-util.js";

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

describe("startOrExit", () => {
  const watchListeners = removesSignalListenersAfterEach();

  it("a start that fails is one fatal line naming the service, then exit 1", async () => {
    const s = setup();
    watchListeners();
    const app = { start: () => Promise.reject(new Error("no bucket")), stop: async () => {} };
    await expect(
      startOrExit(s.logger, app, { what: "autoscaler", stopStep: "stop", after: [], exit: s.exit }),
    ).rejects.toThrow("exit 1");
    expect(s.exits).toEqual([1]);
    expect(s.lines).toHaveLength(1);
    expect(s.lines[0]).toContain('"autoscaler failed to start"');
    expect(s.lines[0]).toContain("no bucket");
  });

  it("a SIGTERM while starting stops the app (aborting its start) and exits 0, with no fatal line", async () => {
    const s = setup();
    watchListeners();
    let abort = () => {};
    const app = {
      start: () =>
        new Promise<void>((_, reject) => {
          abort = () => reject(new Error("aborted while waiting for bucket"));
        }),
      stop: async () => abort(),
    };
    const codes: number[] = [];
    const exited = new Promise<number>((resolve) => {
      const exit = (c: number): never => {
        codes.push(c);
        resolve(c);
        return undefined as never;
      };
      void startOrExit(s.logger, app, { what: "autoscaler", stopStep: "stop", after: [], exit });
    });
    process.emit("SIGTERM", "SIGTERM");
    expect(await exited).toBe(0);
    expect(codes).toEqual([0]);
    expect(s.lines.join("\n")).not.toContain("failed to start");
  });
});
