import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOG_TAIL_LINE_CHARS, LOG_TAIL_LINES } from "@switchyard/contracts";
import { afterAll, describe, expect, it } from "vitest";
import { FAILURE_LOG_BYTES, logTailLines, readFailureLog } from "./failure-log.js";

describe("logTailLines", () => {
  const long = "y".repeat(LOG_TAIL_LINE_CHARS + 10);
  it.each<{ name: string; text: string; partial?: boolean; want: string[] }>([
    { name: "empty log", text: "", want: [] },
    { name: "lines, trailing newline and blank lines dropped", text: "a\nb\n\n\n", want: ["a", "b"] },
    { name: "a blank line inside stays", text: "a\n\nb", want: ["a", "", "b"] },
    {
      name: `the last ${LOG_TAIL_LINES} only`,
      text: Array.from({ length: 15 }, (_, i) => `l${i}`).join("\n"),
      want: Array.from({ length: 10 }, (_, i) => `l${i + 5}`),
    },
    {
      name: "a tail read drops its partial first line",
      text: "ial line\nwhole\n",
      partial: true,
      want: ["whole"],
    },
    { name: "CRLF", text: "a\r\nb\r\n", want: ["a", "b"] },
    {
      name: "a progress bar redrawn shows its last state",
      text: "10%\r50%\r100%\ndone",
      want: ["100%", "done"],
    },
    {
      name: "colours dropped, other control characters replaced, tabs a space",
      text: "\u001b[31mError\u001b[0m:\tboom\u0007\u001b]0;title\u0007!",
      want: ["Error: boom\ufffd!"],
    },
    {
      name: "a long line cut with an ellipsis",
      text: long,
      want: [`${"y".repeat(LOG_TAIL_LINE_CHARS - 1)}…`],
    },
    {
      name: "never half a surrogate pair",
      text: `${"x".repeat(LOG_TAIL_LINE_CHARS - 2)}😀😀`,
      want: [`${"x".repeat(LOG_TAIL_LINE_CHARS - 2)}…`],
    },
  ])("$name", ({ text, partial, want }) => {
    const lines = logTailLines(text, partial ?? false);
    expect(lines).toEqual(want);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(LOG_TAIL_LINE_CHARS);
  });
});

describe("readFailureLog", () => {
  const dir = mkdtempSync(join(tmpdir(), "failure-log-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const SECRET = "hf_9f8e7d6c5b4a39281706";

  it("a missing log gives no lines", () => {
    expect(readFailureLog(join(dir, "none.log"), [SECRET], false)).toEqual([]);
  });

  it("masks the spec's secrets, also one cut by the tail's start", () => {
    const file = join(dir, "replica.log");
    const head = `token=${SECRET}`;
    const rest = `\nloading ${SECRET}\nTraceback: exit 3\n`;
    // The bytes read start 8 characters before the end of the first secret.
    const pad = "p".repeat(FAILURE_LOG_BYTES - 8 - rest.length);
    writeFileSync(file, `${head}${pad}${rest}`);
    const lines = readFailureLog(file, [SECRET], false);
    expect(lines).toEqual(["loading ***", "Traceback: exit 3"]);
    expect(JSON.stringify(lines)).not.toContain(SECRET.slice(-8));
  });

  it("a long line holding a secret is masked before it is cut", () => {
    const file = join(dir, "long.log");
    writeFileSync(file, `${"x".repeat(LOG_TAIL_LINE_CHARS - 5)}${SECRET}\n`);
    const [line] = readFailureLog(file, [SECRET], false);
    expect(line).toBe(`${"x".repeat(LOG_TAIL_LINE_CHARS - 5)}***`);
  });
});
