import { describe, expect, it } from "vitest";
import { type GateEvents, type LeaderApp, leadOrStandBy } from "./leader.js";
import { logSink } from "./log-sink.test-util.js";
import { createLogger } from "./logger.js";
import { removesSignalListenersAfterEach } from "./signal-listeners.test-util.js";

const watchListeners = removesSignalListenersAfterEach();

/**
 * A gate whose lease is won at once; each app's start answers with the next of `starts` (an
 * error rejects it). Resolves `started` with the number of the app that started.
 */
function gate(starts: (Error | null)[]) {
  watchListeners();
  const { lines, dest } = logSink();
  const logger = createLogger({ name: "t", destination: dest });
  const exits: number[] = [];
  const stops: string[] = [];
  let made = 0;
  let onStarted: (n: number) => void = () => {};
  let onExit: (c: number) => void = () => {};
  const started = new Promise<number>((r) => {
    onStarted = r;
  });
  const exited = new Promise<number>((r) => {
    onExit = r;
  });
  const makeApp = (): LeaderApp => {
    const n = ++made;
    return {
      async start() {
        const err = starts[n - 1] ?? null;
        if (err) throw err;
        onStarted(n);
      },
      async stop(why) {
        stops.push(`${n}:${why}`);
      },
    };
  };
  const exit = (c: number): never => {
    exits.push(c);
    onExit(c);
    return undefined as never;
  };
  void leadOrStandBy(
    logger,
    async (on: GateEvents) => {
      on.elected();
      return { release: async () => {} };
    },
    makeApp,
    { what: "prober", stopStep: "stop", after: [], exit, restartMs: 1 },
  );
  return { lines, exits, stops, started, exited };
}

describe("leadOrStandBy", () => {
  it("a start that times out while NATS elects leaders is stopped and started afresh in the same term: no exit", async () => {
    const timeout = Object.assign(new Error("timeout"), { name: "TimeoutError" });
    const g = gate([timeout, timeout, null]);
    expect(await g.started).toBe(3);
    expect(g.exits).toEqual([]);
    // The failed apps were stopped as on a lost lease (what runs is kept for the next to adopt).
    expect(g.stops).toEqual(["1:lease_lost", "2:lease_lost"]);
    const retries = g.lines.filter((l) => l.includes("could not start while NATS is unavailable"));
    expect(retries).toHaveLength(2);
    expect(g.lines.join("\n")).not.toContain("failed to start");
  });

  it("a start that fails otherwise is one fatal line, then exit 1", async () => {
    const g = gate([new Error("permissions violation for subscription")]);
    expect(await g.exited).toBe(1);
    expect(g.lines.filter((l) => l.includes('"prober failed to start"'))).toHaveLength(1);
  });
});
