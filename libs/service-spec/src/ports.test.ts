import { describe, expect, it } from "vitest";
import { MAX_PORTS, parsePorts } from "./ports.js";

describe("parsePorts", () => {
  it.each([
    { name: "absent", value: undefined, want: [] },
    { name: "null", value: null, want: [] },
    { name: "integer", value: 8080, want: [8080] },
    { name: "string", value: "8080", want: [8080] },
    { name: "range", value: "8000-8003", want: [8000, 8001, 8002, 8003] },
    { name: "list of mixed forms", value: [9000, "8080", "10-11"], want: [10, 11, 8080, 9000] },
    { name: "list with duplicates", value: [8000, "8000"], want: [8000] },
  ])("$name", ({ value, want }) => {
    expect(parsePorts(value, "resources.ports")).toEqual({ ports: want, issues: [] });
  });

  it.each([
    { name: "zero", value: 0, path: "resources.ports" },
    { name: "too high", value: 70000, path: "resources.ports" },
    { name: "not a number", value: "http", path: "resources.ports" },
    { name: "reversed range", value: "9000-8000", path: "resources.ports" },
    { name: "huge range", value: `1-${MAX_PORTS + 1}`, path: "resources.ports" },
    { name: "bad item in list", value: [8000, true], path: "resources.ports[1]" },
  ])("rejects $name", ({ value, path }) => {
    const r = parsePorts(value, "resources.ports");
    expect(r.issues.map((i) => i.path)).toEqual([path]);
  });
});
