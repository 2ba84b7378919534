import { describe, expect, it } from "vitest";
import { renderTable, truncate } from "./table.js";

describe("renderTable", () => {
  it.each([
    { name: "header only", headers: ["A", "BB"], rows: [], want: "A  BB" },
    {
      name: "pads every column but the last",
      headers: ["NAME", "X"],
      rows: [
        ["llm", "1"],
        ["longer-name", "22"],
      ],
      want: "NAME         X\nllm          1\nlonger-name  22",
    },
    {
      name: "no trailing blanks when the last cell is empty",
      headers: ["A", "B"],
      rows: [["x", ""]],
      want: "A  B\nx",
    },
  ])("$name", ({ headers, rows, want }) => {
    expect(renderTable(headers, rows)).toBe(want);
  });
});

describe("truncate", () => {
  it.each([
    { name: "short text unchanged", text: "abc", max: 5, want: "abc" },
    { name: "exact length unchanged", text: "abcde", max: 5, want: "abcde" },
    { name: "long text cut with an ellipsis", text: "abcdefgh", max: 5, want: "abcd…" },
    { name: "newlines flattened", text: "line one\n  line two", max: 40, want: "line one line two" },
  ])("$name", ({ text, max, want }) => {
    expect(truncate(text, max)).toBe(want);
  });
});
