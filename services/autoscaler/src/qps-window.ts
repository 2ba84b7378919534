// @pure: no I/O (tools/lint-boundaries checks it)

/**
 * Request counts over a sliding time window: SkyServe keeps every request's timestamp for the
 * last 60 s (AUTOSCALER_QPS_WINDOW_SIZE_SECONDS); a proxy's report already sums a period, so
 * this keeps one (time, count) entry per report. Times are when the reports arrived (one
 * clock, the autoscaler's), in ms.
 */
export class QpsWindow {
  private readonly at: number[] = [];
  private readonly counts: number[] = [];
  private head = 0;
  private sum = 0;

  constructor(readonly windowMs: number) {}

  /** Record `count` requests reported at `at` (times never go back: arrival order). */
  add(at: number, count: number): void {
    this.at.push(at);
    this.counts.push(count);
    this.sum += count;
  }

  /** Requests reported in (now - window, now]. */
  count(now: number): number {
    this.prune(now);
    return this.sum;
  }

  /** Reports still in the window. */
  size(now: number): number {
    this.prune(now);
    return this.at.length - this.head;
  }

  clear(): void {
    this.at.length = 0;
    this.counts.length = 0;
    this.head = 0;
    this.sum = 0;
  }

  private prune(now: number): void {
    const from = now - this.windowMs;
    while (this.head < this.at.length && this.at[this.head] <= from) {
      this.sum -= this.counts[this.head];
      this.head++;
    }
    // Compact now and then, so a long-lived window does not keep every report ever added.
    if (this.head > 1024 && this.head * 2 > this.at.length) {
      this.at.splice(0, this.head);
      this.counts.splice(0, this.head);
      this.head = 0;
    }
  }
}
