// @pure: no I/O (tools/lint-boundaries checks it)
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { CONTAINER } from "./pod-spec.js";

/** Image errors the kubelet reports while a container waits: the replica can never start. */
const IMAGE_ERRORS = new Set(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"]);
/**
 * A Pod's `status.reason` when it was taken off its node, not ended by its own process: the
 * kubelet evicted it (node pressure), the scheduler preempted it for a higher priority, its node
 * was lost or shut down. SkyServe calls such a replica PREEMPTED and replaces it.
 */
const TAKEN_AWAY = new Set(["Evicted", "Preempting", "NodeLost", "NodeShutdown", "Shutdown", "Terminated"]);

/** What the provisioner should know of a replica Pod, read from its status alone. */
export type PodState =
  /** Not running yet: being scheduled, pulled, created. `unschedulable`: the scheduler's message. */
  | { state: "pending"; unschedulable: string | null }
  /** Its container runs; `runStarted` once setup is done (the startup probe passed). */
  | { state: "running"; runStarted: boolean; host: string | null }
  /** It will not run: see `ending`. */
  | { state: "ended"; ending: PodEnding };

/**
 * How a replica Pod ended, in SkyServe's terms: the phase its record takes and why.
 * - FAILED_PROVISION / ImagePullFailed: its image cannot be pulled (a typo in image_id, no access).
 * - FAILED / OutOfMemory: the kernel killed it at its memory limit.
 * - FAILED / SetupFailed, ProcessExited: a script exited (`stage`, `code` as the local backend's).
 * - PREEMPTED / Preempted: evicted, preempted, node lost: not its fault, replaced.
 */
export interface PodEnding {
  phase: "FAILED" | "FAILED_PROVISION" | "PREEMPTED";
  reason: "ImagePullFailed" | "OutOfMemory" | "SetupFailed" | "ProcessExited" | "Preempted";
  message: string;
  stage: "setup" | "run" | "unknown";
  code: number | null;
}

function container(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === CONTAINER);
}

export function podState(pod: V1Pod): PodState {
  const st = pod.status;
  const c = container(pod);
  if (st?.reason && TAKEN_AWAY.has(st.reason))
    return ended("PREEMPTED", "Preempted", `the pod was ${takenAway(st.reason)}: ${st.message ?? st.reason}`);
  const waiting = c?.state?.waiting;
  if (waiting?.reason && IMAGE_ERRORS.has(waiting.reason))
    return ended(
      "FAILED_PROVISION",
      "ImagePullFailed",
      `image ${c?.image ?? "?"} cannot be used (${waiting.reason})${waiting.message ? `: ${waiting.message}` : ""}`,
    );
  const term = c?.state?.terminated;
  if (term || st?.phase === "Failed" || st?.phase === "Succeeded") {
    const code = term?.exitCode ?? null;
    // The wrapper writes the runner's exit status ("setup 1", "run 137") as the termination message.
    const m = /^(setup|run) (\d+)/.exec(term?.message?.trim() ?? "");
    const stage = m ? (m[1] as "setup" | "run") : c?.started ? "run" : "unknown";
    if (term?.reason === "OOMKilled")
      return ended(
        "FAILED",
        "OutOfMemory",
        `${stage === "unknown" ? "the replica" : stage} was killed at its memory limit (OOMKilled), exit code ${code ?? "unknown"}`,
        stage,
        code,
      );
    const how = code === null ? "with an unknown status" : `with code ${code}`;
    if (stage === "setup") return ended("FAILED", "SetupFailed", `setup exited ${how}`, stage, code);
    const note = code === 0 ? ": the run command must keep the server in the foreground" : "";
    const what = stage === "run" ? "run" : "the replica's container";
    return ended("FAILED", "ProcessExited", `${what} exited ${how}${note}`, stage, code);
  }
  if (c?.state?.running)
    return { state: "running", runStarted: c.started === true, host: st?.hostIP ?? null };
  const sched = st?.conditions?.find((x) => x.type === "PodScheduled");
  const unschedulable =
    sched?.status === "False" && sched.reason === "Unschedulable" ? (sched.message ?? "unschedulable") : null;
  return { state: "pending", unschedulable };
}

/**
 * A Pod deleted by someone else (`kubectl delete pod`, a drain of its node, a controller) while
 * its replica ran: taken away, as an eviction is.
 */
/**
 * Nothing of the replica ever ran in this Pod: its container has not started now nor before
 * (unscheduled, its image failing, still being created). Deleting it needs no grace: there is
 * no process to stop, and a kubelet deleting a Pod stuck pulling its image with a grace took
 * 40-60 s on the local cluster.
 */
export function neverRan(pod: V1Pod | undefined): boolean {
  if (!pod) return false;
  const c = container(pod);
  if (!c) return pod.status?.phase === "Pending";
  return !c.state?.running && !c.state?.terminated && !c.lastState?.running && !c.lastState?.terminated;
}

export function deletedEnding(pod: V1Pod): PodEnding {
  const node = pod.spec?.nodeName ? ` on node ${pod.spec.nodeName}` : "";
  return {
    phase: "PREEMPTED",
    reason: "Preempted",
    message: `the pod${node} was deleted by someone other than the provisioner`,
    stage: "unknown",
    code: null,
  };
}

function ended(
  phase: PodEnding["phase"],
  reason: PodEnding["reason"],
  message: string,
  stage: PodEnding["stage"] = "unknown",
  code: number | null = null,
): PodState {
  return { state: "ended", ending: { phase, reason, message, stage, code } };
}

function takenAway(reason: string): string {
  if (reason === "Evicted") return "evicted from its node";
  if (reason === "Preempting") return "preempted by a higher-priority pod";
  if (reason === "NodeLost") return "lost with its node";
  return "stopped with its node";
}
