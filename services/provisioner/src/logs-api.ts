import type { NatsConnection } from "@nats-io/transport-node";
import { type Logger, serve } from "@switchyard/bus";
import {
  FAILED_PHASES,
  LogsRequest,
  type LogsResult,
  replicaKey,
  Subjects,
  YardError,
} from "@switchyard/contracts";
import type { Backend } from "./backend.js";
import { readChunk } from "./log-chunk.js";
import type { ReplicaStore } from "./replica-store.js";

/**
 * `yard.api.replica.logs` for `yard logs`: a chunk of a replica's log file. `finished` tells a
 * follower to stop: the replica is gone (record deleted) or failed with no process left.
 */
export function serveLogs(nc: NatsConnection, store: ReplicaStore, backend: Backend, logger: Logger) {
  return serve(
    nc,
    Subjects.replicaLogs,
    LogsRequest,
    async (req): Promise<LogsResult> => {
      const ids = store
        .all()
        .filter((r) => r.service === req.service)
        .map((r) => r.id);
      const id = req.replica_id ?? (ids.length ? Math.max(...ids) : undefined);
      if (id === undefined) throw new YardError("SY_ERR_NOT_FOUND", `service ${req.service} has no replica`);
      const r = store.get(replicaKey(req.service, id));
      const chunk = readChunk(backend.logFile(req.service, id), req);
      if (!r && chunk.data === "" && req.offset === 0)
        throw new YardError("SY_ERR_NOT_FOUND", `no replica ${id} of service ${req.service}`);
      const finished = !r || (FAILED_PHASES.includes(r.phase) && !backend.running(req.service, id));
      return { replica_id: id, ...chunk, finished };
    },
    logger,
  );
}
