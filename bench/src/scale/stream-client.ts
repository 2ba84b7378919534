import { Agent, request } from "node:http";
import { gapStats, type StreamSpec, type StreamsResult } from "./stream-stats.js";

/**
 * One phase of the streams bench, as its own process (10k sockets need their own file
 * descriptors): open `count` SSE completions at once, round-robin over `urls`, and record when
 * each token arrives. Prints one JSON line (StreamsResult) and exits.
 *
 * argv[2]: the StreamSpec as JSON.
 */
const spec = JSON.parse(process.argv[2]) as StreamSpec;
const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
const body = JSON.stringify({ model: spec.model, prompt: "hi", max_tokens: spec.tokens, stream: true });
const TOKEN = '"finish_reason":null';

/** Arrival times (ms, performance.now) of each stream's tokens. */
const arrivals: number[][] = [];
let open = 0;
let failed = 0;
let firstError = "";
/** When the last of the streams got its headers, and when the first ended. */
let allOpenAt = Number.POSITIVE_INFINITY;
let firstEndAt = Number.POSITIVE_INFINITY;
let ended = 0;
let settle: () => void = () => {};
const allSettled = new Promise<void>((r) => {
  settle = r;
});
const check = () => {
  if (ended + failed >= spec.count) settle();
};

/** Each stream ends once: with all its tokens, or with the first error it meets. */
function finisher(): (err?: string) => void {
  let done = false;
  return (err) => {
    if (done) return;
    done = true;
    if (err) {
      failed++;
      firstError ||= err;
    } else ended++;
    check();
  };
}

function startOne(i: number): Promise<void> {
  const url = new URL("/v1/completions", spec.urls[i % spec.urls.length]);
  const times: number[] = [];
  arrivals.push(times);
  const finish = finisher();
  return new Promise((connected) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${spec.token}`,
          ...(spec.host ? { host: spec.host } : {}),
        },
      },
      (res) => {
        connected();
        if (res.statusCode !== 200) {
          finish(`HTTP ${res.statusCode}`);
          res.resume();
          return;
        }
        open++;
        if (open === spec.count) allOpenAt = performance.now();
        res.setEncoding("utf8");
        let carry = "";
        res.on("data", (chunk: string) => {
          const now = performance.now();
          const text = carry + chunk;
          let at = text.indexOf(TOKEN);
          let last = 0;
          while (at !== -1) {
            times.push(now);
            last = at + TOKEN.length;
            at = text.indexOf(TOKEN, last);
          }
          carry = text.slice(Math.max(last, text.length - TOKEN.length));
        });
        res.on("end", () => {
          firstEndAt = Math.min(firstEndAt, performance.now());
          finish(
            times.length === spec.tokens ? undefined : `ended after ${times.length} of ${spec.tokens} tokens`,
          );
        });
        res.on("error", (e) => finish(String(e)));
      },
    );
    req.on("error", (e) => {
      finish(String(e));
      connected();
    });
    req.end(body);
  });
}

// Connect in waves (a burst of 10k SYNs overflows the listen backlog and times retransmits).
// The deadline covers the ramp too: a stream that never gets its headers counts as failed.
const t0 = performance.now();
const timeout = setTimeout(settle, spec.timeoutMs);
const ramp = (async () => {
  const waves: Promise<void>[] = [];
  for (let i = 0; i < spec.count; i++) {
    waves.push(startOne(i));
    if (waves.length >= spec.connectConcurrency) await Promise.all(waves.splice(0));
  }
  await Promise.all(waves);
})();
await Promise.race([ramp, allSettled]);
const rampMs = performance.now() - t0;
await allSettled;
clearTimeout(timeout);

const result: StreamsResult = {
  streams: spec.count,
  concurrent: Number.isFinite(allOpenAt) && allOpenAt < firstEndAt,
  failed: spec.count - ended,
  first_error:
    firstError || (ended < spec.count ? `${spec.count - ended} streams unfinished at the deadline` : null),
  ramp_ms: Math.round(rampMs),
  window_ms: Number.isFinite(allOpenAt) ? Math.round(firstEndAt - allOpenAt) : 0,
  ...gapStats(arrivals, allOpenAt, firstEndAt),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
// Nothing is left open once every stream ended: the process ends by itself (a stream that
// never ended keeps it alive, and the bench stops it).
agent.destroy();
