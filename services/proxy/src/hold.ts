import type { ServerResponse } from "node:http";
import { HoldQueues } from "./hold-queue.js";

/** Why a held request is answered without reaching a replica. */
export type HoldEnd = "timeout" | "shutdown" | "removed";

/** What the pipeline does with a request it parked. */
export interface HeldRequest {
  /** A replica is routed: continue down the pipeline (body still unread). */
  go(): void;
  /** Never dispatched: answer it ourselves. */
  end(why: HoldEnd): void;
  /** The client left while it waited. */
  gone(): void;
}

interface Entry {
  h: HeldRequest;
  res: ServerResponse;
  timer: NodeJS.Timeout;
  onClose: () => void;
}

/**
 * Scale-from-zero's waiting room: requests for a service with no replica yet, per service in
 * arrival order (HoldQueues), each with its timeout and a watch on its client. Requests are
 * parked before their body is read, so nothing is buffered here and the body timeout is not
 * running (the client is not the idle one); TCP holds the body back meanwhile.
 * `demand(service)` is called when a service's first request is parked (its line was empty).
 */
export class Hold {
  private readonly queues: HoldQueues<Entry>;

  constructor(
    max: number,
    private readonly timeoutMs: number,
    private readonly demand: (service: string) => void,
  ) {
    this.queues = new HoldQueues(max);
  }

  /** Park a request; false when the service's line is full (then nothing was parked). */
  park(service: string, res: ServerResponse, h: HeldRequest): boolean {
    const e: Entry = {
      h,
      res,
      timer: undefined as unknown as NodeJS.Timeout,
      onClose: () => {
        if (!this.leave(service, e)) return;
        h.gone();
      },
    };
    if (!this.queues.add(service, e)) return false;
    e.timer = setTimeout(() => {
      if (this.leave(service, e)) h.end("timeout");
    }, this.timeoutMs);
    res.once("close", e.onClose);
    if (this.queues.size(service) === 1) this.demand(service);
    return true;
  }

  /** The service got a replica: its requests continue, in arrival order. */
  release(service: string): void {
    for (const e of this.queues.take(service)) {
      this.unwatch(e);
      e.h.go();
    }
  }

  /** The service is gone: its requests are answered. */
  endService(service: string, why: HoldEnd): void {
    for (const e of this.queues.take(service)) {
      this.unwatch(e);
      e.h.end(why);
    }
  }

  /** Shutdown: every held request is answered. */
  endAll(why: HoldEnd): void {
    for (const e of this.queues.takeAll()) {
      this.unwatch(e);
      e.h.end(why);
    }
  }

  size(service: string): number {
    return this.queues.size(service);
  }

  sizes(): Map<string, number> {
    return this.queues.sizes();
  }

  private leave(service: string, e: Entry): boolean {
    if (!this.queues.remove(service, e)) return false;
    this.unwatch(e);
    return true;
  }

  private unwatch(e: Entry): void {
    clearTimeout(e.timer);
    e.res.off("close", e.onClose);
  }
}
