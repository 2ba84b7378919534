import { describe, expect, it } from "vitest";
import { lastLines } from "./log-tail.js";

describe("lastLines", () => {
  it.each([
    { name: "fewer lines than asked", text: "a\nb\n", n: 5, want: "a\nb\n" },
    { name: "keeps the trailing newline", text: "a\nb\nc\n", n: 2, want: "b\nc\n" },
    { name: "no trailing newline", text: "a\nb\nc", n: 1, want: "c" },
    { name: "zero lines", text: "a\nb\n", n: 0, want: "" },
    { name: "empty text", text: "", n: 3, want: "" },
  ])("$name", ({ text, n, want }) => {
    expect(lastLines(text, n)).toBe(want);
  });
});
