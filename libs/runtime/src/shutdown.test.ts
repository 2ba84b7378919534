import { silentLogger } from "@switchyard/bus";
import { afterEach, describe, expect, it } from "vitest";
import { onShutdown, type ShutdownOptions, type ShutdownStep } from "./shutdown.js";

// The handlers are real process signal listeners; the test emits the signal in-process (with its
// name as the argument, as Node passes it) and replaces process.exit, so each case sees the exit
// code the process would have ended with.
let remove: (() => void) | null = null;
afterEach(() => {
  remove?.();
  remove = null;
});

function install(steps: ShutdownStep[], options: number | Omit<ShutdownOptions, "exit"> = {}) {
  const codes: number[] = [];
  let onExit: (c: number) => void = () => {};
  const exited = new Promise<number>((r) => {
    onExit = r;
  });
  const exit = (c: number) => {
    codes.push(c);
    onExit(c);
  };
  remove = onShutdown(
    silentLogger,
    steps,
    typeof options === "number" ? { graceMs: options, exit } : { ...options, exit },
  );
  return { codes, exited };
}

describe("onShutdown", () => {
  it("runs the steps in order and exits 0; a failing step is skipped", async () => {
    const ran: string[] = [];
    const { exited } = install([
      { name: "a", run: () => ran.push("a") },
      {
        name: "b",
        run: async () => {
          ran.push("b");
          throw new Error("boom");
        },
      },
      { name: "c", run: async () => ran.push("c") },
    ]);
    process.emit("SIGTERM", "SIGTERM");
    expect(await exited).toBe(0);
    expect(ran).toEqual(["a", "b", "c"]);
  });

  it.each([
    { name: "all steps say 0", codes: [0, 0], want: 0 },
    { name: "the highest code wins", codes: [0, 1, 0], want: 1 },
    { name: "a code above 1 is kept", codes: [2, 1], want: 2 },
  ])("exit code from exitCode steps: $name", async ({ codes, want }) => {
    const { exited } = install([
      ...codes.map((c, i) => ({ name: `s${i}`, exitCode: async () => c })),
      { name: "plain", run: () => {} },
    ]);
    process.emit("SIGINT", "SIGINT");
    expect(await exited).toBe(want);
  });

  it("an exitCode step that throws makes the exit 1, and the later steps still run", async () => {
    let later = false;
    const { exited } = install([
      {
        name: "workers",
        exitCode: () => {
          throw new Error("no workers");
        },
      },
      { name: "admin", run: () => (later = true) },
    ]);
    process.emit("SIGTERM", "SIGTERM");
    expect(await exited).toBe(1);
    expect(later).toBe(true);
  });

  it("a step hanging past graceMs exits 1 (grace given as a bare number)", async () => {
    const { exited } = install([{ name: "hang", run: () => new Promise(() => {}) }], 20);
    process.emit("SIGTERM", "SIGTERM");
    expect(await exited).toBe(1);
  });

  it("a second SIGTERM (a group-wide signal seen twice) does not cut the drain short", async () => {
    let release: () => void = () => {};
    const { codes, exited } = install([
      {
        name: "slow",
        run: () =>
          new Promise<void>((r) => {
            release = r;
          }),
      },
    ]);
    process.emit("SIGTERM", "SIGTERM");
    process.emit("SIGTERM", "SIGTERM");
    release();
    expect(await exited).toBe(0);
    expect(codes).toEqual([0]);
  });

  it("a second Ctrl-C (SIGINT) exits 1 at once", async () => {
    let release: () => void = () => {};
    const { codes, exited } = install([
      {
        name: "slow",
        run: () =>
          new Promise<void>((r) => {
            release = r;
          }),
      },
    ]);
    process.emit("SIGINT", "SIGINT");
    process.emit("SIGINT", "SIGINT");
    expect(await exited).toBe(1);
    expect(codes).toEqual([1]);
    release(); // let the first handler finish (a real process.exit(1) would not have returned)
  });
});
