import { describe, expect, it } from "vitest";
import { formatLine, lineSplitter } from "./prefix.js";

const plain = (s: string) => s.replace(/\x1b\[\d+m/g, "");
const t = Date.UTC(2026, 10, 28, 14, 2, 3);

describe("formatLine", () => {
  it.each([
    {
      name: "not a terminal: JSON kept as is after the name",
      line: `{"level":30,"time":${t},"msg":"ready"}`,
      pretty: false,
      want: `spec | {"level":30,"time":${t},"msg":"ready"}`,
    },
    { name: "not a terminal: text line", line: "hello", pretty: false, want: "spec | hello" },
    {
      name: "terminal: pino line → time, level, message, fields",
      line: `{"level":40,"time":${t},"pid":1,"hostname":"h","name":"spec","msg":"slow","ms":12,"why":"two words"}`,
      pretty: true,
      want: `spec        │ 14:02:03 WARN  slow ms=12 why="two words"`,
    },
    {
      name: "terminal: ISO time and the svc field (runtime's logger)",
      line: `{"level":30,"time":"2026-11-28T13:59:39.099Z","svc":"spec","msg":"ready"}`,
      pretty: true,
      want: "spec        │ 13:59:39 INFO  ready",
    },
    {
      name: "terminal: text line padded",
      line: "Starting the fake OpenAI engine",
      pretty: true,
      want: "spec        │ Starting the fake OpenAI engine",
    },
    { name: "terminal: broken JSON shown as text", line: "{oops", pretty: true, want: "spec        │ {oops" },
  ])("$name", ({ line, pretty, want }) => {
    expect(plain(formatLine("spec", 36, line, { pretty, width: 11 }))).toBe(want);
  });

  it("colours the name in a terminal only", () => {
    expect(formatLine("spec", 36, "x", { pretty: true, width: 4 })).toContain("\x1b[36mspec\x1b[0m");
    expect(formatLine("spec", 36, "x", { pretty: false, width: 4 })).not.toContain("\x1b[");
  });
});

describe("lineSplitter", () => {
  it.each([
    { name: "whole lines", chunks: ["a\nb\n"], want: ["a", "b"] },
    { name: "a line across chunks", chunks: ["a", "b\nc", "\n"], want: ["ab", "c"] },
    { name: "CRLF", chunks: ["a\r\n"], want: ["a"] },
    { name: "unterminated tail kept back", chunks: ["a\nb"], want: ["a"] },
  ])("$name", ({ chunks, want }) => {
    const split = lineSplitter();
    expect(chunks.flatMap((c) => split(c))).toEqual(want);
  });
});
