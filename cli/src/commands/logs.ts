import { type LogsRequest, type LogsResult, Subjects } from "@switchyard/contracts";
import type { z } from "zod";
import type { Ctx } from "../context.js";
import { lastLines } from "../log-tail.js";

export interface LogsOptions {
  follow: boolean;
  tail?: number;
  /** Pause between two polls that found nothing new (--follow). */
  pollMs?: number;
}

const MAX_TAIL_BYTES = 1_000_000;

/**
 * `yard logs NAME [REPLICA_ID]`: the replica's log file, read in chunks from the provisioner
 * (`yard.api.replica.logs`). --follow keeps asking from the last offset until the replica has
 * finished or Ctrl-C.
 */
export async function logs(
  name: string,
  replica: number | undefined,
  o: LogsOptions,
  ctx: Ctx,
): Promise<number> {
  const bus = await ctx.bus();
  const { io } = ctx;
  let req: z.input<typeof LogsRequest> = { service: name, replica_id: replica, offset: 0 };
  if (o.tail !== undefined) req.tail_bytes = Math.min(MAX_TAIL_BYTES, Math.max(16_384, o.tail * 512));
  let first = true;
  while (!io.signal.aborted) {
    const res = await bus.request<LogsResult>(Subjects.replicaLogs, req);
    const data = first && o.tail !== undefined ? lastLines(res.data, o.tail) : res.data;
    first = false;
    if (data) io.write(data);
    // Stay on the replica the first answer picked, even if a newer one starts meanwhile.
    req = { service: name, replica_id: res.replica_id, offset: res.next_offset };
    if (res.data.length > 0) continue;
    if (!o.follow || res.finished) return 0;
    await pause(o.pollMs ?? 500, io.signal);
  }
  return 0;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
