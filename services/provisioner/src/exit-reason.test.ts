import { describe, expect, it } from "vitest";
import { classifyExit } from "./exit-reason.js";

describe("classifyExit", () => {
  it.each([
    {
      name: "setup failed",
      e: { stage: "setup", code: 3, logTail: "", port: 8000 },
      reason: "SetupFailed",
      message: "setup exited with code 3",
    },
    {
      name: "run killed by SIGKILL",
      e: { stage: "run", code: 137, logTail: "", port: 8000 },
      reason: "ProcessExited",
      message: "run exited with code 137 (killed by SIGKILL)",
    },
    {
      name: "run returned 0 (backgrounded server)",
      e: { stage: "run", code: 0, logTail: "", port: 8000 },
      reason: "ProcessExited",
      message: "run exited with code 0: the run command must keep the server in the foreground",
    },
    {
      name: "port clash from a bind error in the log",
      e: {
        stage: "run",
        code: 1,
        logTail: "Error: listen EADDRINUSE: address already in use 0.0.0.0:8000",
        port: 8000,
      },
      reason: "PortInUse",
      message:
        "run exited with code 1: its port 8000 was already in use (does the run command hard-code a port? use --port $YARD_REPLICA_PORT)",
    },
    {
      name: "container OOM-killed while running",
      e: { stage: "unknown", code: 137, oomKilled: true, logTail: "", port: 8000 },
      reason: "OutOfMemory",
      message:
        "the replica was killed for running out of memory (OOM kill, with code 137 (killed by SIGKILL))",
    },
    {
      name: "OOM kill wins over a bind error in the log",
      e: { stage: "run", code: 137, oomKilled: true, logTail: "EADDRINUSE", port: 8000 },
      reason: "OutOfMemory",
      message: "run was killed for running out of memory (OOM kill, with code 137 (killed by SIGKILL))",
    },
    {
      name: "no status recorded",
      e: { stage: "unknown", code: null, logTail: "", port: null },
      reason: "ProcessExited",
      message: "the replica's processes are gone (killed, exit status not recorded)",
    },
  ] as const)("$name", ({ e, reason, message }) => {
    expect(classifyExit(e)).toEqual({ phase: "FAILED", reason, message });
  });
});
