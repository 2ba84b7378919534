import { type BucketWatch, openBucket, silentLogger, watchBucket } from "@switchyard/bus";
import { Buckets, EndpointRecord, ReplicaRecord, YardError } from "@switchyard/contracts";
import type { CliBus } from "../bus-client.js";
import type { Io } from "../io.js";
import { changedLines, initialWaitState, waitingFor, waitOutcome } from "../wait-progress.js";

/**
 * `yard up --wait`: follow the service's replicas and endpoints on the bus, print each phase
 * change as it happens, and end when a replica of `revision` is ready (0) or failed (1), or
 * after `timeoutS` (1).
 */
export async function waitReady(o: {
  bus: CliBus;
  io: Io;
  service: string;
  revision: number;
  timeoutS: number;
}): Promise<number> {
  const { io, service, revision } = o;
  const start = io.now();
  const state = initialWaitState(service, revision);
  const abort = new AbortController();
  const watches: BucketWatch[] = [];
  const stamp = () => `${String(Math.round((io.now() - start) / 1000)).padStart(4)}s`;
  io.out(`Waiting for ${service} revision ${revision} to be READY (timeout ${o.timeoutS} s)...`);

  let finish!: (code: number) => void;
  const done = new Promise<number>((r) => {
    finish = r;
  });
  let settled = false;
  const settle = (code: number, line?: string, toErr = false) => {
    if (settled) return;
    settled = true;
    if (line) (toErr ? io.err : io.out)(line);
    finish(code);
  };
  const step = () => {
    if (settled) return;
    for (const l of changedLines(state)) io.out(`${stamp()}  ${l}`);
    const r = waitOutcome(state);
    if (!r.done) return;
    if (r.ok) settle(0, `Service ${service} is READY: replica ${r.replica} at ${r.url}`);
    else
      settle(
        1,
        `error [${r.phase}]: replica ${r.replica} of ${service} revision ${revision} failed: ${r.reason}${r.message ? `: ${r.message}` : ""}`,
        true,
      );
  };

  const timer = setTimeout(() => {
    const e = new YardError(
      "SY_ERR_TIMEOUT",
      `timed out after ${o.timeoutS} s waiting for ${waitingFor(state)}`,
    );
    settle(1, `error [${e.code}]: ${e.message}`, true);
  }, o.timeoutS * 1000);
  const onInterrupt = () =>
    settle(130, "interrupted: the service keeps being reconciled; check `yard status`", true);
  io.signal.addEventListener("abort", onInterrupt);

  const key = `${service}.*`;
  void (async () => {
    try {
      const opts = { logger: silentLogger, signal: abort.signal };
      const [replicas, endpoints] = await Promise.all([
        openBucket(o.bus.nc, Buckets.replicas, opts),
        openBucket(o.bus.nc, Buckets.endpoints, opts),
      ]);
      if (settled) return;
      watches.push(
        watchBucket(
          replicas,
          ReplicaRecord,
          (c) => {
            const id = Number(c.key.slice(service.length + 1));
            if (c.op === "put") state.replicas.set(id, c.value);
            else state.replicas.delete(id);
            step();
          },
          silentLogger,
          key,
        ),
        watchBucket(
          endpoints,
          EndpointRecord,
          (c) => {
            const id = Number(c.key.slice(service.length + 1));
            if (c.op === "put") state.endpoints.set(id, c.value);
            else state.endpoints.delete(id);
            step();
          },
          silentLogger,
          key,
        ),
      );
    } catch (err) {
      if (!settled) settle(1, `error: cannot watch replicas: ${String(err)}`, true);
    }
  })();

  try {
    return await done;
  } finally {
    clearTimeout(timer);
    abort.abort();
    io.signal.removeEventListener("abort", onInterrupt);
    for (const w of watches) w.stop();
  }
}
