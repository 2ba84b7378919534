import { type DeleteResult, type ListResult, Subjects, YardError } from "@switchyard/contracts";
import type { z } from "zod";
import { UsageError } from "../cli-error.js";
import type { Ctx } from "../context.js";

/** `yard down NAME... | --all`: delete specs (the provisioner then tears their replicas down). */
export async function down(names: string[], o: { all: boolean }, ctx: Ctx): Promise<number> {
  if (o.all === names.length > 0)
    throw new UsageError("give either service NAMEs or --all (exactly one of them)");
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
