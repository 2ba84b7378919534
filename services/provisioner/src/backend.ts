import type { ResolvedSpec } from "@switchyard/contracts";
import type { ExitInfo } from "./exit-reason.js";

export interface LaunchRequest {
  service: string;
  id: number;
  revision: number;
  spec: ResolvedSpec;
  port: number;
  gpuIndices: number[];
}

/** A replica the backend finds on its host (after a provisioner restart). */
export interface FoundReplica {
  service: string;
  id: number;
  pid: number;
  /** Its process is alive and is the one that was launched (not a reused pid). */
  running: boolean;
  runStarted: boolean;
}

export type BackendEvent =
  | { type: "run_started"; service: string; id: number }
  | { type: "exited"; service: string; id: number; exit: ExitInfo };

/**
 * Where replicas run. The local backend runs them as process groups on this host; other backends
 * (docker, kubernetes) implement the same five verbs.
 */
export interface Backend {
  readonly name: string;
  /** Start setup then run; resolves with the handle (pid = process group id) once spawned. */
  launch(req: LaunchRequest): Promise<{ pid: number }>;
  /** Stop every process of the replica (SIGTERM, SIGKILL after the grace); resolves when all are gone. */
  terminate(service: string, id: number, pid: number | null): Promise<void>;
  /** Replicas present on the host, from their state files. */
  list(): Promise<FoundReplica[]>;
  /** Watch a replica found by `list` for run start and exit, as if it had launched it. */
  adopt(found: FoundReplica): void;
  /** Is the port free on the host? And a free port. */
  portFree(port: number): Promise<boolean>;
  freePort(): Promise<number>;
  logFile(service: string, id: number): string;
  /** The secret values of the spec the replica was launched with (to mask its log); [] if unknown. */
  secretValues(service: string, id: number): string[];
  /** Does any process of the replica still run? */
  running(service: string, id: number): boolean;
  onEvent(listener: (e: BackendEvent) => void): void;
  close(): void;
}
