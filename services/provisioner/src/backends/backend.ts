import type { Reason, ReplicaPhase, ResolvedSpec } from "@switchyard/contracts";
import type { ExitInfo } from "../exit-reason.js";
import type { Gpu } from "../inventory.js";
import type { ChunkRequest } from "../log-chunk.js";
import type { PortDecision } from "./ports.js";

export interface LaunchRequest {
  service: string;
  id: number;
  revision: number;
  spec: ResolvedSpec;
  /** What choosePort gave it (YARD_REPLICA_PORT). */
  port: number;
  /** GPU indices of the backend's inventory that it holds ([] = CPU). */
  gpuIndices: number[];
}

/** A launched replica: an opaque handle (the record keeps it) and the host its URL names. */
export interface Launched {
  handle: string;
  host: string;
}

/** A replica the backend finds (after a provisioner restart). */
export interface FoundReplica {
  service: string;
  id: number;
  /** The backend's handle of it (what launch returned). */
  handle: string;
  /** It runs, and is the one that was launched (not a reused process id or name). */
  running: boolean;
  runStarted: boolean;
  /** Gone: stopped on purpose, by whom ("provisioner", "pnpm start"); absent when not known. */
  stoppedBy?: string | null;
  /** Gone: how it ended; absent when not known. */
  exit?: ExitInfo | null;
}

export type BackendEvent =
  /** `host`: where its URL points when only now known (a Pod's address once scheduled). */
  | { type: "run_started"; service: string; id: number; host?: string }
  /**
   * `failure`: what the end means when the backend knows better than the exit status (an image
   * that cannot be pulled, a Pod evicted or preempted); absent: classifyExit(exit) says.
   */
  | { type: "exited"; service: string; id: number; exit: ExitInfo; failure?: BackendFailure }
  /** Launched but not placed yet, and why (a Pod the scheduler cannot place); null: placed. */
  | { type: "waiting"; service: string; id: number; reason: Reason | null; message: string | null };

/** A replica's end as the backend saw it: FAILED_PROVISION (ImagePullFailed), PREEMPTED (Preempted) … */
export interface BackendFailure {
  phase: Extract<ReplicaPhase, "FAILED" | "FAILED_PROVISION" | "PREEMPTED">;
  reason: Reason;
  message: string;
}

/** Ports held by the provisioner's other replicas, each with its replica key. */
export interface PortRequest {
  specPort: number;
  run: string | null;
  taken: ReadonlyMap<number, string>;
}

/** A chunk of a replica's log with the given secret values masked (log-chunk.ts). */
export interface LogChunk {
  data: string;
  next_offset: number;
}

/**
 * Where replicas run: the one seam between the provisioner and a backend. Nothing outside
 * `backends/` knows which backend runs; each backend is a folder here and one line in
 * `backends/index.ts`. A backend owns how a replica is started and stopped, what its handle
 * means, which port and address it gets, where its log is kept and which GPUs exist.
 */
export interface Backend {
  readonly name: string;
  /** The GPUs replicas can be given (YARD_GPUS declared, else what the backend's host has). */
  inventory(): Promise<Gpu[]>;
  /** The replica's YARD_REPLICA_PORT (ports.ts decidePort for backends sharing the host's ports). */
  choosePort(req: PortRequest): Promise<PortDecision>;
  /** Start setup then run; resolves with the replica's handle once it is started. */
  launch(req: LaunchRequest): Promise<Launched>;
  /** Stop the replica (SIGTERM, kill after the grace); resolves when nothing of it runs. */
  terminate(service: string, id: number, handle: string | null): Promise<void>;
  /** Replicas the backend has (running or gone but not cleaned up); settles the gone ones. */
  list(): Promise<FoundReplica[]>;
  /** Watch a replica found by `list` for run start and exit, as if it had launched it. */
  adopt(found: FoundReplica): void;
  /** A chunk of the replica's log (stdout+stderr), `secrets` masked. `more`: it may still write. */
  readLog(
    service: string,
    id: number,
    req: ChunkRequest,
    secrets: readonly string[],
    more: boolean,
  ): LogChunk;
  /** The last lines of its log for a failed record (failure-log.ts), `secrets` masked. */
  logTail(service: string, id: number, secrets: readonly string[], more: boolean): string[];
  /** The secret values of the spec the replica was launched with (to mask its log); [] if unknown. */
  secretValues(service: string, id: number): string[];
  /** Does any process of the replica still run? */
  running(service: string, id: number): boolean;
  onEvent(listener: (e: BackendEvent) => void): void;
  close(): void;
}

/** The provisioner settings every backend may read (config.ts documents them). */
export interface BackendSettings {
  YARD_STATE_DIR: string;
  YARD_GPUS?: string | undefined;
  YARD_HOST_ADDRESS: string;
  YARD_TERMINATE_GRACE_MS: number;
  YARD_REPLICA_PATH: string;
}
