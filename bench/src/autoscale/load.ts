import { Agent, request } from "undici";
import { now, sleep } from "./clock.js";
import { TOKEN } from "./system.js";

/** One completion request as the client saw it (bench clock, epoch ms). */
export interface Sent {
  service: string;
  proxy: number;
  sentAt: number;
  /** Response headers in (the first byte: a stream's 200 goes out when the engine takes it). */
  firstByteAt: number | null;
  doneAt: number | null;
  status: number | null;
  /** The replica that answered (its engine serves the model `bench-<id>`). */
  replica: number | null;
  /** A failure: a status other than 200, a cut stream, a socket error. */
  error: string | null;
}

/**
 * The load: streamed completions (`POST /v1/completions`, `stream: true`) through the proxies,
 * round-robin, open-loop (sent on schedule whether or not earlier ones finished, as users do).
 * Every request is kept, so a phase can say which failed.
 */
export class LoadGen {
  readonly sent: Sent[] = [];
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 256 });
  private readonly inflight = new Set<Promise<void>>();
  private next = 0;

  constructor(private readonly proxies: readonly string[]) {}

  /** Send one request now; resolves with its record once its response has ended. */
  send(service: string, proxy = this.next++ % this.proxies.length): Promise<Sent> {
    const s: Sent = {
      service,
      proxy,
      sentAt: now(),
      firstByteAt: null,
      doneAt: null,
      status: null,
      replica: null,
      error: null,
    };
    this.sent.push(s);
    const done = this.exchange(s);
    this.inflight.add(done);
    void done.finally(() => this.inflight.delete(done));
    return done.then(() => s);
  }

  /**
   * Offered load `qps(t)` (t: seconds since the start) for `seconds`, open-loop: each request is
   * due 1/qps after the previous one (due times, so timer lateness does not add up). `stop()`
   * returning true ends it early.
   */
  async run(
    service: string,
    qps: (t: number) => number,
    seconds: number,
    stop: () => boolean = () => false,
  ): Promise<void> {
    const t0 = now();
    let due = t0;
    while (!stop()) {
      const t = (now() - t0) / 1000;
      if (t >= seconds) break;
      const rate = qps(t);
      if (rate <= 0) {
        due = now() + 100;
        await sleep(100);
        continue;
      }
      due = Math.max(due + 1000 / rate, now() - 1000 / rate);
      const wait = due - now();
      if (wait > 0) await sleep(wait);
      if (stop()) break;
      void this.send(service);
    }
  }

  /** Wait for every request sent so far to end. */
  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }

  failed(from = 0): Sent[] {
    return this.sent.slice(from).filter((s) => s.error !== null);
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private async exchange(s: Sent): Promise<void> {
    try {
      const res = await request(`${this.proxies[s.proxy]}/v1/completions`, {
        method: "POST",
        dispatcher: this.agent,
        headers: {
          host: `${s.service}.localhost`,
          authorization: `Bearer ${TOKEN}`,
          "content-type": "application/json",
        },
        // No model: each replica serves its own name, and answers with it.
        body: JSON.stringify({ prompt: "hello", stream: true }),
      });
      s.firstByteAt = now();
      s.status = res.statusCode;
      const body = await res.body.text();
      s.doneAt = now();
      const m = /"model":"bench-(\d+)"/.exec(body);
      s.replica = m ? Number(m[1]) : null;
      if (res.statusCode !== 200) s.error = `${res.statusCode} ${body.slice(0, 200)}`;
      else if (!body.trimEnd().endsWith("data: [DONE]")) s.error = "stream cut before [DONE]";
    } catch (err) {
      s.doneAt = now();
      s.error = String(err);
    }
  }
}
