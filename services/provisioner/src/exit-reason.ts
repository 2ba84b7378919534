import { constants } from "node:os";
import type { Reason } from "@switchyard/contracts";

/** How a replica's process group ended, as far as the backend knows. */
export interface ExitInfo {
  /** Which script ended it; "unknown" when no exit status was recorded (it died hard). */
  stage: "setup" | "run" | "unknown";
  /** Exit code (bash reports death by signal N as 128+N); null when unknown. */
  code: number | null;
  /** The kernel killed it for passing its memory limit (a container's OOMKilled). */
  oomKilled?: boolean;
  /** The end of the replica's log, to recognise a port clash. */
  logTail: string;
  port: number | null;
}

export interface Failure {
  phase: "FAILED";
  reason: Reason;
  message: string;
}

/** The failure a replica's exit means: OutOfMemory, SetupFailed, PortInUse (bind error) or ProcessExited. */
export function classifyExit(e: ExitInfo): Failure {
  const how = e.code === null ? "with an unknown status" : `with code ${e.code}${signalNote(e.code)}`;
  if (e.oomKilled)
    return {
      phase: "FAILED",
      reason: "OutOfMemory",
      message: `${e.stage === "unknown" ? "the replica" : e.stage} was killed for running out of memory (OOM kill, ${how})`,
    };
  if (e.stage === "setup") return { phase: "FAILED", reason: "SetupFailed", message: `setup exited ${how}` };
  if (/EADDRINUSE|address already in use/i.test(e.logTail))
    return {
      phase: "FAILED",
      reason: "PortInUse",
      message:
        `run exited ${how}: its port${e.port ? ` ${e.port}` : ""} was already in use ` +
        "(does the run command hard-code a port? use --port $YARD_REPLICA_PORT)",
    };
  if (e.stage === "unknown")
    return {
      phase: "FAILED",
      reason: "ProcessExited",
      message: "the replica's processes are gone (killed, exit status not recorded)",
    };
  const note = e.code === 0 ? ": the run command must keep the server in the foreground" : "";
  return { phase: "FAILED", reason: "ProcessExited", message: `run exited ${how}${note}` };
}

function signalNote(code: number): string {
  if (code <= 128) return "";
  const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
  return name ? ` (killed by ${name})` : "";
}
