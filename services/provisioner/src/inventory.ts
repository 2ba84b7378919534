import type { AcceleratorCandidate } from "@switchyard/contracts";

/** One GPU of the host: its index (what CUDA_VISIBLE_DEVICES names) and its SkyPilot name. */
export interface Gpu {
  index: number;
  name: string;
}

/** What a replica got: the candidate it matched and the GPU indices it holds. */
export interface Allocation {
  name: string;
  count: number;
  indices: number[];
}

/**
 * `YARD_GPUS` → inventory: `A100:2,L4:1` is GPUs 0,1 (A100) and 2 (L4). A name without a count
 * means one GPU. Throws naming the bad entry.
 */
export function parseGpuList(text: string): Gpu[] {
  const out: Gpu[] = [];
  for (const raw of text.split(",")) {
    const entry = raw.trim();
    if (!entry) continue;
    const m = /^([A-Za-z0-9][-A-Za-z0-9_.]*)(?::(\d+))?$/.exec(entry);
    if (!m || (m[2] !== undefined && Number(m[2]) < 1))
      throw new Error(`bad GPU entry "${entry}": expected NAME or NAME:COUNT, e.g. A100:2,L4:1`);
    for (let i = 0; i < Number(m[2] ?? 1); i++) out.push({ index: out.length, name: m[1] });
  }
  return out;
}

/**
 * SkyPilot's accelerator name of an nvidia-smi product name: "NVIDIA A100-SXM4-80GB" → A100-80GB,
 * "Tesla T4" → T4, "NVIDIA GeForce RTX 4090" → RTX4090, "NVIDIA H100 80GB HBM3" → H100.
 */
export function canonicalGpuName(product: string): string {
  const p = product.replace(/\b(NVIDIA|Tesla|GeForce)\s+/gi, "").trim();
  const rtx = /^RTX\s+([A-Za-z]?\d+\w*)/i.exec(p);
  if (rtx) return `RTX${rtx[1].toUpperCase()}`;
  const head = (p.split(/[\s-]/)[0] ?? p).toUpperCase();
  return head === "A100" && /80\s*GB/i.test(p) ? "A100-80GB" : head;
}

/** Parse `nvidia-smi --query-gpu=index,name --format=csv,noheader` output. */
export function parseNvidiaSmi(output: string): Gpu[] {
  const out: Gpu[] = [];
  for (const line of output.split("\n")) {
    const m = /^\s*(\d+)\s*,\s*(.+?)\s*$/.exec(line);
    if (m) out.push({ index: Number(m[1]), name: canonicalGpuName(m[2]) });
  }
  return out;
}

/**
 * Pick the first candidate (in the spec's order) whose count of GPUs of that name is free.
 * Names match case-insensitively. Fractional counts (SkyPilot allows `T4:0.5`) take one whole GPU:
 * the local backend does not share GPUs.
 */
export function allocate(
  candidates: readonly AcceleratorCandidate[],
  inventory: readonly Gpu[],
  inUse: ReadonlySet<number>,
): Allocation | null {
  for (const c of candidates) {
    const need = Math.max(1, Math.ceil(c.count));
    const free = inventory.filter((g) => !inUse.has(g.index) && sameName(g.name, c.name));
    if (free.length >= need)
      return { name: c.name, count: c.count, indices: free.slice(0, need).map((g) => g.index) };
  }
  return null;
}

/** "no free accelerator among {L4:1, A100:1}; inventory L4:1 (1 in use)". */
export function noAcceleratorMessage(
  candidates: readonly AcceleratorCandidate[],
  inventory: readonly Gpu[],
  inUse: ReadonlySet<number>,
): string {
  const wanted = `{${candidates.map((c) => `${c.name}:${c.count}`).join(", ")}}`;
  return `no free accelerator among ${wanted}; ${describeInventory(inventory, inUse)}`;
}

export function describeInventory(inventory: readonly Gpu[], inUse: ReadonlySet<number>): string {
  if (inventory.length === 0) return "inventory empty (no GPU on this host: set YARD_GPUS, e.g. L4:1)";
  const byName = new Map<string, { total: number; used: number }>();
  for (const g of inventory) {
    const e = byName.get(g.name) ?? { total: 0, used: 0 };
    e.total++;
    if (inUse.has(g.index)) e.used++;
    byName.set(g.name, e);
  }
  const parts = [...byName].map(([n, e]) => `${n}:${e.total}${e.used ? ` (${e.used} in use)` : ""}`);
  return `inventory ${parts.join(", ")}`;
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
