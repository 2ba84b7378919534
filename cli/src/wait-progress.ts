import {
  type EndpointRecord,
  FAILED_PHASES,
  type ReplicaPhase,
  type ReplicaRecord,
} from "@switchyard/contracts";
import { effectivePhase } from "./status-view.js";

/** What `yard up --wait` knows: the service's replicas and ready endpoints, keyed by replica id. */
export interface WaitState {
  service: string;
  revision: number;
  replicas: Map<number, ReplicaRecord>;
  endpoints: Map<number, EndpointRecord>;
  /** The last phase line printed per replica, so only changes are printed. */
  shown: Map<number, string>;
}

export type WaitOutcome =
  | { done: false }
  | { done: true; ok: true; url: string; replica: number }
  | { done: true; ok: false; replica: number; phase: ReplicaPhase; reason: string; message: string };

export function initialWaitState(service: string, revision: number): WaitState {
  return { service, revision, replicas: new Map(), endpoints: new Map(), shown: new Map() };
}

/** One replica's line: `replica 1: READY (http://127.0.0.1:8000)`, reasons and messages appended. */
export function phaseLine(r: ReplicaRecord, phase: ReplicaPhase, currentRevision: number): string {
  const who = r.revision === currentRevision ? `replica ${r.id}` : `replica ${r.id} (revision ${r.revision})`;
  let detail = "";
  if (phase === "READY" || phase === "STARTING") detail = r.url ? ` (${r.url})` : "";
  if (r.reason || (r.message && phase !== "READY")) {
    const why = [r.reason, r.message].filter(Boolean).join(": ");
    detail += ` — ${why}`;
  }
  return `${who}: ${phase}${detail}`;
}

/**
 * Lines to print for the current state (only replicas whose line changed since last time),
 * updating `state.shown`. Prefixed by the caller with the elapsed time.
 */
export function changedLines(state: WaitState): string[] {
  const ready = new Set([...state.endpoints.values()].map((e) => `${e.service}.${e.replica_id}`));
  const out: string[] = [];
  for (const r of [...state.replicas.values()].sort((a, b) => a.id - b.id)) {
    const line = phaseLine(r, effectivePhase(r, ready), state.revision);
    if (state.shown.get(r.id) !== line) {
      state.shown.set(r.id, line);
      out.push(line);
    }
  }
  for (const id of [...state.shown.keys()]) {
    if (!state.replicas.has(id)) {
      state.shown.delete(id);
      out.push(`replica ${id}: removed`);
    }
  }
  return out;
}

/**
 * Done when a ready endpoint of the current revision exists (READY), or when a replica of the
 * current revision reached a failed phase (the reason and message say why).
 */
export function waitOutcome(state: WaitState): WaitOutcome {
  for (const e of state.endpoints.values()) {
    if (e.revision === state.revision) return { done: true, ok: true, url: e.url, replica: e.replica_id };
  }
  for (const r of state.replicas.values()) {
    if (r.revision === state.revision && FAILED_PHASES.includes(r.phase)) {
      return {
        done: true,
        ok: false,
        replica: r.id,
        phase: r.phase,
        reason: r.reason ?? "unknown reason",
        message: r.message ?? "",
      };
    }
  }
  return { done: false };
}

/** What the timeout message says the CLI was still waiting for. */
export function waitingFor(state: WaitState): string {
  const mine = [...state.replicas.values()].filter((r) => r.revision === state.revision);
  const phases = mine.length
    ? mine
        .sort((a, b) => a.id - b.id)
        .map((r) => `replica ${r.id} ${r.phase}`)
        .join(", ")
    : "no replica launched yet (is the provisioner running?)";
  return `a ready endpoint of ${state.service} revision ${state.revision}; now: ${phases}`;
}
