import { describe, expect, it } from "vitest";
import { parseAccelerators } from "./accelerators.js";
import { parseYaml } from "./parse-yaml.js";

const P = "resources.accelerators";

describe("parseAccelerators", () => {
  it.each([
    { name: "absent", value: undefined, want: [] },
    { name: "string with count", value: "A100:1", want: [{ name: "A100", count: 1 }] },
    { name: "string without count", value: "A100", want: [{ name: "A100", count: 1 }] },
    { name: "fractional count", value: "T4:0.5", want: [{ name: "T4", count: 0.5 }] },
    { name: "name with dash", value: "A100-80GB:8", want: [{ name: "A100-80GB", count: 8 }] },
    {
      name: "mapping",
      value: { L4: 1, A100: 2 },
      want: [
        { name: "L4", count: 1 },
        { name: "A100", count: 2 },
      ],
    },
    { name: "mapping with null count", value: { A100: null }, want: [{ name: "A100", count: 1 }] },
    {
      name: "list",
      value: ["L4:1", "A100"],
      want: [
        { name: "L4", count: 1 },
        { name: "A100", count: 1 },
      ],
    },
    {
      name: "set literal written as a string",
      value: "{L4:1, A10G:2}",
      want: [
        { name: "L4", count: 1 },
        { name: "A10G", count: 2 },
      ],
    },
    { name: "duplicates dropped", value: ["L4:1", "L4:1", "L4"], want: [{ name: "L4", count: 1 }] },
  ])("$name", ({ value, want }) => {
    expect(parseAccelerators(value, P)).toEqual({ candidates: want, issues: [] });
  });

  it("reads the set literal {L4:1, A10G:1} as yaml 2.9.1 parses it (keys 'L4:1' with null values)", () => {
    const { data } = parseYaml("accelerators: {L4:1, A10G:1, A100-80GB:1}\n");
    expect(data.accelerators).toEqual({ "L4:1": null, "A10G:1": null, "A100-80GB:1": null });
    expect(parseAccelerators(data.accelerators, P).candidates).toEqual([
      { name: "L4", count: 1 },
      { name: "A10G", count: 1 },
      { name: "A100-80GB", count: 1 },
    ]);
  });

  it.each([
    { name: "zero count", value: "A100:0", path: P },
    { name: "word count", value: "A100:x", path: P },
    { name: "bad name", value: "A 100", path: P },
    { name: "count twice", value: { "A100:1": 2 }, path: `${P}.A100:1` },
    { name: "string count in mapping", value: { A100: "2" }, path: `${P}.A100` },
    { name: "number", value: 4, path: P },
    { name: "non-string in list", value: ["A100", 3], path: `${P}[1]` },
  ])("rejects $name at its path", ({ value, path }) => {
    const r = parseAccelerators(value, P);
    expect(r.issues.map((i) => i.path)).toEqual([path]);
  });
});
