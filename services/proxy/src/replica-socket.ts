import type { Socket } from "node:net";
import { buildConnector } from "undici";

type WriteCallback = (err?: Error | null) => void;
interface StreamImpl {
  _write(chunk: unknown, encoding: BufferEncoding, cb: WriteCallback): void;
  _writev(chunks: unknown, cb: WriteCallback): void;
}

/**
 * undici's own connector, with one change to every replica connection: a failed write (EPIPE,
 * ECONNRESET: the replica hung up while the request body was still going out) reports its
 * error one event-loop turn later, after what the replica sent before hanging up was read.
 * A replica that answers a body it refuses with 413 and closes at once (fastify does: no
 * lingering close) would otherwise lose that answer: undici aborts on the write error without
 * reading, and the client would get a 502 of ours instead of the replica's 413.
 */
export function replicaConnector(opts: buildConnector.BuildOptions): buildConnector.connector {
  const connect = buildConnector(opts);
  return (options, callback) =>
    connect(options, (err, socket) => {
      if (socket) readBeforeWriteErrors(socket);
      (callback as (e: Error | null, s: Socket | null) => void)(err, socket);
    });
}

function readBeforeWriteErrors(socket: Socket): void {
  const impl = socket as unknown as StreamImpl;
  const write = impl._write;
  const writev = impl._writev;
  // A Writable has one _write/_writev in flight at a time: one pending callback, no per-write
  // closure on the hot path.
  let pending: WriteCallback | null = null;
  const written = (err?: Error | null) => {
    const cb = pending!;
    pending = null;
    if (!err) cb();
    // Two turns: the next poll phase reads what arrived with the reset, then the error lands.
    else setImmediate(() => setImmediate(() => cb(err)));
  };
  impl._write = (chunk, encoding, cb) => {
    pending = cb;
    write.call(socket, chunk, encoding, written);
  };
  impl._writev = (chunks, cb) => {
    pending = cb;
    writev.call(socket, chunks, written);
  };
}
