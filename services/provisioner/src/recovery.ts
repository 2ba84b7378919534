import {
  FAILED_PHASES,
  type Reason,
  type ReplicaRecord,
  RUNNING_PHASES,
  replicaKey,
} from "@switchyard/contracts";
import type { FoundReplica } from "./backends/backend.js";
import { classifyExit } from "./exit-reason.js";

export type Recovery =
  /** Its process runs: watch it again (the reconciler then keeps or stops it). */
  | { type: "adopt"; key: string; found: FoundReplica }
  /** Its process is gone: record the failure (it is then replaced). */
  | { type: "fail"; key: string; reason: Reason; message: string }
  /**
   * It was being stopped when the provisioner went down, or was stopped and the record never
   * said so: finish that. `message`: who stopped it, when the backend knows.
   */
  | { type: "terminate"; key: string; message?: string }
  /** It was draining (its record says so) and still runs: wait for the rest of the drain, then stop it. */
  | { type: "resume_drain"; key: string; found: FoundReplica }
  /** A replica with no (running) record: stop it, keep the record as it is. */
  | { type: "kill"; service: string; id: number; handle: string };

/**
 * What a (re)starting provisioner does with the records it finds and the processes on the host:
 * never an orphan (a process nobody tracks), never a duplicate (a record whose process runs is
 * adopted, not relaunched). A record that says "running" while its process is gone gets the true
 * story where the backend knows it: stopped on purpose (the stop's record never reached the bus:
 * NATS was away, or the provisioner died first) → the stop is finished, no failure; exited on
 * its own with a recorded status → the failure that status means, as if the provisioner had
 * seen it exit; no status (killed with its runner) → "gone when the provisioner started".
 */
export function planRecovery(records: readonly ReplicaRecord[], found: readonly FoundReplica[]): Recovery[] {
  const out: Recovery[] = [];
  const byKey = new Map(found.map((f) => [replicaKey(f.service, f.id), f]));
  for (const r of records) {
    const key = replicaKey(r.service, r.id);
    const f = byKey.get(key);
    byKey.delete(key);
    const alive = f?.running === true;
    if (r.phase === "SHUTTING_DOWN" && r.drain && alive) out.push({ type: "resume_drain", key, found: f });
    else if (r.phase === "SHUTTING_DOWN") out.push({ type: "terminate", key });
    else if (RUNNING_PHASES.includes(r.phase)) {
      if (alive) out.push({ type: "adopt", key, found: f });
      else if (f?.stoppedBy) out.push({ type: "terminate", key, message: stoppedMessage(f.stoppedBy) });
      else if (f?.exit && f.exit.stage !== "unknown") {
        const { reason, message } = classifyExit(f.exit);
        out.push({ type: "fail", key, reason, message });
      } else
        out.push({
          type: "fail",
          key,
          reason: "ProcessExited",
          message: "the replica's processes were gone when the provisioner started",
        });
    } else if (alive && (r.phase === "PENDING" || FAILED_PHASES.includes(r.phase)))
      out.push({ type: "kill", service: r.service, id: r.id, handle: f.handle });
  }
  for (const f of byKey.values())
    if (f.running) out.push({ type: "kill", service: f.service, id: f.id, handle: f.handle });
  return out;
}

function stoppedMessage(by: string): string {
  return by === "provisioner"
    ? "stopped by the provisioner before its record reached the bus"
    : `stopped by ${by} while the provisioner was down`;
}
