import { arrive, leave, newScheduler, type SchedulerState, type Step } from "./scheduler.js";

/** Thrown by `Slots.acquire` when the request's signal aborts while it waits. */
export class LeftWhileWaiting extends Error {
  constructor() {
    super("the client left while its request waited for a slot");
  }
}

/**
 * The scheduler's decisions as promises: `acquire` resolves once the request runs (at once
 * when a slot is free) with the function that gives its slot back; aborting the signal while
 * waiting drops the request from the queue.
 */
export class Slots {
  private state: SchedulerState;
  private seq = 0;
  /** Waiting requests' wake-ups, by id. */
  private readonly wake = new Map<number, () => void>();

  constructor(maxNumSeqs: number) {
    this.state = newScheduler(maxNumSeqs);
  }

  get running(): number {
    return this.state.running.length;
  }

  get waiting(): number {
    return this.state.waiting.length;
  }

  acquire(signal: AbortSignal): Promise<() => void> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new LeftWhileWaiting());
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        this.apply(leave(this.state, id));
      };
      const onAbort = () => {
        // Only a request still waiting is handled here; a running one releases its own slot.
        if (!this.wake.delete(id)) return;
        this.apply(leave(this.state, id));
        reject(new LeftWhileWaiting());
      };
      this.wake.set(id, () => {
        signal.removeEventListener("abort", onAbort);
        resolve(release);
      });
      signal.addEventListener("abort", onAbort, { once: true });
      this.apply(arrive(this.state, id));
    });
  }

  private apply(step: Step): void {
    this.state = step.state;
    for (const id of step.started) {
      const wake = this.wake.get(id);
      this.wake.delete(id);
      wake?.();
    }
  }
}
