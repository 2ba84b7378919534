import type { Readable } from "node:stream";

/**
 * nginx's client_body_timeout: a request body that is being read and gets no byte for `ms`
 * calls `onIdle` once. Time when nobody reads it (the request waits for a replica connection,
 * or the replica reads slower than the client sends and the body is paused) does not count:
 * then the client is not the idle one. `touch` on every chunk; `stop` when the body ended or
 * the request is over.
 */
export class BodyTimer {
  private timer: NodeJS.Timeout | null;

  constructor(
    private readonly body: Readable,
    ms: number,
    private readonly onIdle: () => void,
  ) {
    this.timer = setTimeout(() => this.fire(), ms);
  }

  touch(): void {
    this.timer?.refresh();
  }

  stop(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
  }

  private fire(): void {
    if (this.timer === null) return;
    if (this.body.readableEnded || this.body.destroyed) {
      this.stop();
      return;
    }
    if (this.body.readableFlowing !== true) {
      this.timer.refresh(); // not being read: the wait is ours, not the client's
      return;
    }
    this.stop();
    this.onIdle();
  }
}
