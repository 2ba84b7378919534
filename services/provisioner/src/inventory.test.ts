import { describe, expect, it } from "vitest";
import {
  allocate,
  canonicalGpuName,
  noAcceleratorMessage,
  parseGpuList,
  parseNvidiaSmi,
} from "./inventory.js";

describe("parseGpuList (YARD_GPUS)", () => {
  it.each([
    { name: "two kinds", text: "A100:2,L4:1", names: ["A100", "A100", "L4"] },
    { name: "no count = 1", text: "L4", names: ["L4"] },
    { name: "spaces and empty entries", text: " L4:1 , ,T4:2", names: ["L4", "T4", "T4"] },
    { name: "dashed name", text: "A100-80GB:1", names: ["A100-80GB"] },
    { name: "empty", text: "", names: [] },
  ])("$name", ({ text, names }) => {
    const gpus = parseGpuList(text);
    expect(gpus.map((g) => g.name)).toEqual(names);
    expect(gpus.map((g) => g.index)).toEqual(names.map((_, i) => i));
  });

  it.each(["L4:0", "L4:x", "L4:1:2", ":1"])("rejects %s naming the entry", (text) => {
    expect(() => parseGpuList(text)).toThrow(/bad GPU entry/);
  });
});

describe("nvidia-smi", () => {
  it.each([
    { product: "NVIDIA A100-SXM4-40GB", name: "A100" },
    { product: "NVIDIA A100-SXM4-80GB", name: "A100-80GB" },
    { product: "NVIDIA A100 80GB PCIe", name: "A100-80GB" },
    { product: "NVIDIA L4", name: "L4" },
    { product: "NVIDIA A10G", name: "A10G" },
    { product: "Tesla T4", name: "T4" },
    { product: "Tesla V100-SXM2-16GB", name: "V100" },
    { product: "NVIDIA H100 80GB HBM3", name: "H100" },
    { product: "NVIDIA GeForce RTX 4090", name: "RTX4090" },
    { product: "NVIDIA L40S", name: "L40S" },
  ])("$product → $name", ({ product, name }) => {
    expect(canonicalGpuName(product)).toBe(name);
  });

  it("parses `--query-gpu=index,name --format=csv,noheader`", () => {
    expect(parseNvidiaSmi("0, NVIDIA L4\n1, NVIDIA A100-SXM4-80GB\n\n")).toEqual([
      { index: 0, name: "L4" },
      { index: 1, name: "A100-80GB" },
    ]);
  });
});

describe("allocate", () => {
  const inv = parseGpuList("L4:1,A100:2");
  const cands = [
    { name: "L4", count: 1 },
    { name: "A100", count: 1 },
  ];
  it.each([
    { name: "first candidate free", inUse: [], got: { name: "L4", indices: [0] } },
    { name: "first taken → second", inUse: [0], got: { name: "A100", indices: [1] } },
    { name: "skips GPUs in use", inUse: [0, 1], got: { name: "A100", indices: [2] } },
    { name: "all taken", inUse: [0, 1, 2], got: null },
  ])("$name", ({ inUse, got }) => {
    const a = allocate(cands, inv, new Set(inUse));
    expect(a === null ? null : { name: a.name, indices: a.indices }).toEqual(got);
  });

  it.each([
    { name: "count 2 needs two of that name", cands: [{ name: "A100", count: 2 }], indices: [1, 2] },
    { name: "count 2 of a single L4 fails", cands: [{ name: "L4", count: 2 }], indices: null },
    { name: "fraction takes a whole GPU", cands: [{ name: "L4", count: 0.5 }], indices: [0] },
    { name: "case-insensitive names", cands: [{ name: "l4", count: 1 }], indices: [0] },
    { name: "unknown name", cands: [{ name: "H100", count: 1 }], indices: null },
  ])("$name", ({ cands, indices }) => {
    expect(allocate(cands, inv, new Set())?.indices ?? null).toEqual(indices);
  });
});

describe("noAcceleratorMessage", () => {
  const cands = [
    { name: "L4", count: 1 },
    { name: "A100", count: 1 },
  ];
  it.each([
    {
      name: "names candidates and inventory with use",
      inv: "L4:1",
      inUse: [0],
      msg: "no free accelerator among {L4:1, A100:1}; inventory L4:1 (1 in use)",
    },
    {
      name: "several kinds",
      inv: "L4:1,T4:2",
      inUse: [0, 2],
      msg: "no free accelerator among {L4:1, A100:1}; inventory L4:1 (1 in use), T4:2 (1 in use)",
    },
    {
      name: "empty inventory says how to set one",
      inv: "",
      inUse: [],
      msg: "no free accelerator among {L4:1, A100:1}; inventory empty (no GPU on this host: set YARD_GPUS, e.g. L4:1)",
    },
  ])("$name", ({ inv, inUse, msg }) => {
    expect(noAcceleratorMessage(cands, parseGpuList(inv), new Set(inUse))).toBe(msg);
  });
});
