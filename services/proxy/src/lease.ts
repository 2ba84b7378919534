// @pure: no I/O (tools/lint-boundaries checks it)
import type { LbReplica } from "./lb/types.js";

/**
 * One request's claim on a replica: taken when the request is assigned, released exactly once
 * however it ends (response finished, upstream error, client abort, retry elsewhere).
 * A replica removed from the table keeps its own object, so late releases touch a counter
 * nobody reads any more; a re-added replica starts from a fresh object at 0 (SkyServe's
 * counters leaked and went negative here: issue #10444).
 */
export class Lease<R extends LbReplica = LbReplica> {
  private held = true;
  constructor(readonly replica: R) {
    replica.inFlight++;
  }
  /** True the first time; later calls are no-ops. */
  release(): boolean {
    if (!this.held) return false;
    this.held = false;
    if (this.replica.inFlight > 0) this.replica.inFlight--;
    return true;
  }
  get active(): boolean {
    return this.held;
  }
}
