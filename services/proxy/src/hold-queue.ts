// @pure: no I/O (tools/lint-boundaries checks it)

/**
 * Requests waiting for a service's first replica (scale-from-zero), per service, in arrival
 * order, at most `max` per service. A Set keeps insertion order and drops a request that left
 * from the middle in O(1).
 */
export class HoldQueues<T> {
  private readonly queues = new Map<string, Set<T>>();

  constructor(readonly max: number) {}

  /** Queue `item` at the end of the service's line; false when the line is full (nothing queued). */
  add(service: string, item: T): boolean {
    let q = this.queues.get(service);
    if (q === undefined) {
      if (this.max <= 0) return false;
      q = new Set();
      this.queues.set(service, q);
    }
    if (q.size >= this.max || q.has(item)) return false;
    q.add(item);
    return true;
  }

  /** Take `item` out of the line (it left); false if it was not in it. */
  remove(service: string, item: T): boolean {
    const q = this.queues.get(service);
    if (q === undefined || !q.delete(item)) return false;
    if (q.size === 0) this.queues.delete(service);
    return true;
  }

  /** Empty the service's line: its requests in arrival order. */
  take(service: string): T[] {
    const q = this.queues.get(service);
    if (q === undefined) return [];
    this.queues.delete(service);
    return [...q];
  }

  /** Empty every line (shutdown): each service's requests in arrival order. */
  takeAll(): T[] {
    const all: T[] = [];
    for (const q of this.queues.values()) all.push(...q);
    this.queues.clear();
    return all;
  }

  size(service: string): number {
    return this.queues.get(service)?.size ?? 0;
  }

  /** Services with requests held, and how many. */
  sizes(): Map<string, number> {
    const m = new Map<string, number>();
    for (const [s, q] of this.queues) m.set(s, q.size);
    return m;
  }
}
