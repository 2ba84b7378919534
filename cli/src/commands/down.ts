import {
  type DeleteResult,
  type ListResult,
  type ReplicaDownRequest,
  type ReplicaDownResult,
  Subjects,
  YardError,
} from "@switchyard/contracts";
import type { z } from "zod";
import { UsageError } from "../cli-error.js";
import type { Ctx } from "../context.js";

export interface DownOptions {
  all: boolean;
  /** One replica of the one service named (SkyServe's `--replica-id`). */
  replicaId?: number;
  /** With --replica-id: a failed replica's record is removed (else it stays to show the failure). */
  purge: boolean;
}

/**
 * `yard down NAME... | --all`: delete specs (the provisioner then drains and stops their
 * replicas). `yard down NAME --replica-id N [--purge]`: one replica (SkyServe's terminate_replica).
 */
export async function down(names: string[], o: DownOptions, ctx: Ctx): Promise<number> {
  if (o.all === names.length > 0)
    throw new UsageError("give either service NAMEs or --all (exactly one of them)");
  if (o.replicaId !== undefined) return downReplica(names, o.replicaId, o.purge, ctx);
  const bus = await ctx.bus();
  const targets = o.all
    ? (await bus.request<z.infer<typeof ListResult>>(Subjects.specList, {})).records.map((r) => r.name)
    : [...new Set(names)];
  if (targets.length === 0) {
    ctx.io.out("No services to remove.");
    return 0;
  }
  const missing: string[] = [];
  for (const name of targets) {
    try {
      await bus.request<z.infer<typeof DeleteResult>>(Subjects.specDelete, { name });
      ctx.io.out(`Removed service ${name} (its replicas are being shut down).`);
    } catch (err) {
      if (err instanceof YardError && err.code === "SY_ERR_NOT_FOUND") missing.push(name);
      else throw err;
    }
  }
  if (missing.length === 0) return 0;
  throw new YardError("SY_ERR_NOT_FOUND", `no service named ${missing.map((m) => `'${m}'`).join(", ")}`);
}

/** One replica: replaced then drained, stopped at once if it took no traffic, or purged if failed. */
async function downReplica(names: string[], id: number, purge: boolean, ctx: Ctx): Promise<number> {
  if (names.length !== 1) throw new UsageError("--replica-id needs exactly one service NAME");
  const bus = await ctx.bus();
  const req: ReplicaDownRequest = { service: names[0], replica_id: id, purge };
  const res = await bus.request<ReplicaDownResult>(Subjects.replicaDown, req);
  const what = `replica ${res.replica_id} of ${res.service}`;
  if (res.action === "purged") ctx.io.out(`Removed the record of failed ${what}.`);
  else if (res.action === "stopping")
    ctx.io.out(`Stopping ${what} (it took no traffic); a replacement starts.`);
  else
    ctx.io.out(
      `Replacing ${what}: it serves until its replacement is READY, then drains (no new requests; those in flight finish) and stops.`,
    );
  return 0;
}
