// @pure: no I/O (tools/lint-boundaries checks it)
import { z } from "zod";

/**
 * How a new revision replaces the old one (SkyServe's `sky serve update --mode`,
 * research/skyserve.md §6; `rolling` is its DEFAULT_UPDATE_MODE):
 * - rolling: new replicas start beside the old ones; an old one is drained as each new one is
 *   ready, so the ready count never drops below the target. Both revisions take traffic.
 * - blue_green: a full set of the new revision starts; traffic switches to it at once when
 *   enough of it is ready (activeRevisions), then the old set is drained. Traffic is never split.
 */
export const UPDATE_MODES = ["rolling", "blue_green"] as const;
export const UpdateMode = z.enum(UPDATE_MODES);
export type UpdateMode = z.infer<typeof UpdateMode>;
export const DEFAULT_UPDATE_MODE: UpdateMode = "rolling";

/**
 * SkyServe waits this long after taking a scaled-down replica out of its load balancer before
 * stopping it (replica_managers.py `_DEFAULT_DRAIN_SECONDS`). Switchyard waits at most this long
 * (YARD_DRAIN_TIMEOUT_S), and less as soon as no proxy has a request in flight on it.
 */
export const SKYSERVE_DRAIN_SECONDS = 120;

/**
 * A proxy that sent no load report for this many times its last report's `next_ms` (its report
 * interval while the service is busy, its heartbeat once quiet) is taken as gone: its requests
 * went with it, so it no longer holds a drain up (and the autoscaler's load book calls it silent
 * after as many).
 */
export const SILENT_REPORT_INTERVALS = 3;

/** The revision that takes over, as its route (or spec record) says. */
export interface LatestRevision {
  revision: number;
  mode: UpdateMode;
  /** Its min_replicas: blue-green switches once at least this many (and at least one) are ready. */
  minReplicas: number;
}

/**
 * SkyServe's `active_versions` (research/skyserve.md §6): the revisions that take traffic, given
 * one entry per routable replica (ready, not draining) holding its revision.
 * - rolling: every revision with a ready replica (mixed traffic while it rolls).
 * - blue_green: the latest revision once at least max(1, its min_replicas) of its replicas are
 *   ready (SkyServe asks for min_replicas; one more than none, so a service that may idle at zero
 *   does not switch to nothing); until then the oldest revision with a ready replica.
 * Revisions newer than `latest` (a route not seen yet) take none in either mode; revisions below
 * `floor` (a proxy that already switched past them) take none either. `latest` null (no route):
 * every revision, as rolling. The proxy, the provisioner and `yard status` all decide with this.
 */
export function activeRevisions(
  routable: Iterable<number>,
  latest: LatestRevision | null,
  floor = 0,
): number[] {
  const count = new Map<number, number>();
  for (const rev of routable) {
    if (rev < floor || (latest && rev > latest.revision)) continue;
    count.set(rev, (count.get(rev) ?? 0) + 1);
  }
  const revisions = [...count.keys()].sort((a, b) => a - b);
  if (!latest || latest.mode === "rolling") return revisions;
  if ((count.get(latest.revision) ?? 0) >= Math.max(1, latest.minReplicas)) return [latest.revision];
  return revisions.slice(0, 1);
}
