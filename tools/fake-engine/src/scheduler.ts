// @pure: vLLM's admission decisions (max_num_seqs running, the rest waiting FIFO), no I/O
/**
 * The capacity model of vLLM's scheduler as the fake engine needs it: at most `maxNumSeqs`
 * sequences run at once; a request that finds every slot taken waits in a FIFO queue (vLLM's
 * default `--scheduling-policy fcfs`, no bound on the queue); when a running sequence finishes or
 * is aborted, the head of the queue starts. A waiting request whose client left is dropped
 * from the queue without ever running. (vLLM also preempts on KV-cache pressure; the fake has no
 * KV cache, so `max_num_seqs` is its only limit.)
 *
 * The state is an immutable value; every step returns the next state and the ids it started.
 */
export interface SchedulerState {
  readonly maxNumSeqs: number;
  /** Ids running now, in the order they started. */
  readonly running: readonly number[];
  /** Ids waiting, oldest first. */
  readonly waiting: readonly number[];
}

export interface Step {
  state: SchedulerState;
  /** Ids that move from waiting (or from nowhere, for a new arrival) to running, in order. */
  started: number[];
}

export function newScheduler(maxNumSeqs: number): SchedulerState {
  if (!Number.isInteger(maxNumSeqs) || maxNumSeqs < 1)
    throw new Error(`maxNumSeqs must be an integer >= 1, got ${maxNumSeqs}`);
  return { maxNumSeqs, running: [], waiting: [] };
}

/** A new request arrives: it runs at once when a slot is free and nobody waits before it. */
export function arrive(s: SchedulerState, id: number): Step {
  if (s.running.includes(id) || s.waiting.includes(id)) return { state: s, started: [] };
  return fill({ ...s, waiting: [...s.waiting, id] });
}

/**
 * A request leaves: it finished, or its client disconnected (running or still waiting). Its
 * slot goes to the head of the queue. An unknown id changes nothing (leaving twice is harmless).
 */
export function leave(s: SchedulerState, id: number): Step {
  if (s.running.includes(id)) return fill({ ...s, running: s.running.filter((x) => x !== id) });
  if (s.waiting.includes(id))
    return { state: { ...s, waiting: s.waiting.filter((x) => x !== id) }, started: [] };
  return { state: s, started: [] };
}

/** Moves waiting requests into free slots, oldest first. */
function fill(s: SchedulerState): Step {
  const free = Math.max(0, s.maxNumSeqs - s.running.length);
  const started = s.waiting.slice(0, free);
  if (started.length === 0) return { state: s, started };
  return {
    state: { ...s, running: [...s.running, ...started], waiting: s.waiting.slice(started.length) },
    started,
  };
}
