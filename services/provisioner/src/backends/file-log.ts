import { readFailureLog } from "../failure-log.js";
import { readMaskedChunk } from "../log-chunk.js";
import type { Backend } from "./backend.js";

/**
 * Backend's two log reads, for a replica log kept as a file on the provisioner's host. Every
 * backend keeps its logs so (the local backend's replicas write the file; the docker and
 * kubernetes backends copy the engine's or the pod log API's stream into it, so the log outlives
 * the container and reads need no round trip), so the reads are made here once, given where a
 * replica's file is, and each backend only says that.
 */
export function fileLogs(
  file: (service: string, id: number) => string,
): Pick<Backend, "readLog" | "logTail"> {
  return {
    readLog: (service, id, req, secrets, more) => readMaskedChunk(file(service, id), req, secrets, more),
    logTail: (service, id, secrets, more) => readFailureLog(file(service, id), secrets, more),
  };
}
