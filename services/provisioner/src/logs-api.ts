import {
  FAILED_PHASES,
  type LogsRequest,
  type LogsResult,
  replicaKey,
  YardError,
} from "@switchyard/contracts";
import type { z } from "zod";
import type { Backend } from "./backends/backend.js";
import type { ReplicaStore } from "./replica-store.js";

export type LogsQuery = z.output<typeof LogsRequest>;

/**
 * The answer to `yard.api.replica.logs` (served in bus.ts) for `yard logs`: a chunk of a
 * replica's log file, with the secret values of the replica's spec (as launched, and the
 * service's current one) masked as `***`. `finished` tells a follower to stop: the replica is
 * gone (record deleted) or failed with no process left.
 */
export function answerLogs(
  store: ReplicaStore,
  backend: Backend,
  currentSecrets: (service: string) => string[],
): (req: LogsQuery) => Promise<LogsResult> {
  return async (req) => {
    const ids = store
      .all()
      .filter((r) => r.service === req.service)
      .map((r) => r.id);
    const id = req.replica_id ?? (ids.length ? Math.max(...ids) : undefined);
    if (id === undefined) throw new YardError("SY_ERR_NOT_FOUND", `service ${req.service} has no replica`);
    const r = store.get(replicaKey(req.service, id));
    const secrets = [...backend.secretValues(req.service, id), ...currentSecrets(req.service)];
    const running = backend.running(req.service, id);
    // May it still write? Its process runs, or its record says it lives (the backend may not
    // track it yet, e.g. before adoption after a restart): then a possible secret's start
    // at the end of the log is held back for the next chunk (see maskWindow).
    const more = running || (r !== undefined && !FAILED_PHASES.includes(r.phase));
    const chunk = backend.readLog(req.service, id, req, secrets, more);
    if (!r && chunk.data === "" && req.offset === 0)
      throw new YardError("SY_ERR_NOT_FOUND", `no replica ${id} of service ${req.service}`);
    const finished = !r || (FAILED_PHASES.includes(r.phase) && !running);
    return { replica_id: id, ...chunk, finished };
  };
}
