import type { UpdateMode } from "@switchyard/contracts";
import type { Ctx } from "../context.js";
import { type UpOptions, up } from "./up.js";

export type UpdateOptions = Omit<UpOptions, "name" | "updateMode"> & { mode: UpdateMode };

/**
 * `yard update NAME FILE [--mode rolling|blue_green]` (SkyServe's `sky serve update`): FILE
 * becomes the next revision of the running service NAME, whatever name the YAML gives (as
 * SkyServe, the argument names the service). The spec service refuses a NAME that does not run.
 */
export function update(name: string, file: string, o: UpdateOptions, ctx: Ctx): Promise<number> {
  return up(file, { ...o, name, updateMode: o.mode }, ctx);
}
