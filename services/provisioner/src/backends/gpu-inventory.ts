import { execFileSync } from "node:child_process";
import type { Logger } from "@switchyard/bus";
import { type Gpu, parseGpuList, parseNvidiaSmi } from "../inventory.js";

/** The host's GPUs: YARD_GPUS when set (also "" = none), else nvidia-smi, else none. */
export function detectInventory(yardGpus: string | undefined, logger: Logger): Gpu[] {
  if (yardGpus !== undefined) return parseGpuList(yardGpus);
  try {
    const out = execFileSync("nvidia-smi", ["--query-gpu=index,name", "--format=csv,noheader"], {
      encoding: "utf8",
      timeout: 10_000,
      stdio: ["ignore", "pipe", "ignore"],
    });
    return parseNvidiaSmi(out);
  } catch {
    logger.info({}, "no YARD_GPUS and no nvidia-smi: CPU replicas only");
    return [];
  }
}
