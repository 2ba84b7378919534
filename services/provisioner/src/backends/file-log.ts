import { readFailureLog } from "../failure-log.js";
import type { ChunkRequest } from "../log-chunk.js";
import { readMaskedChunk } from "../log-chunk.js";
import type { LogChunk } from "./backend.js";

/**
 * A replica log kept as a file on the provisioner's host (the local backend's replicas write it;
 * the docker backend copies the engine's log stream into it, so the log outlives the container
 * and reads need no engine round trip).
 */
export function fileLogChunk(
  file: string,
  req: ChunkRequest,
  secrets: readonly string[],
  more: boolean,
): LogChunk {
  return readMaskedChunk(file, req, secrets, more);
}

export function fileLogTail(file: string, secrets: readonly string[], more: boolean): string[] {
  return readFailureLog(file, secrets, more);
}
