import { Writable } from "node:stream";

/** A pino destination that keeps each JSON line written to it, for tests to read. */
export function logSink(): { lines: string[]; dest: Writable } {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      cb();
    },
  });
  return { lines, dest };
}
