import { describe, expect, it } from "vitest";
import { showNatsLine } from "./launcher.js";
import { lineEvent } from "./services.js";

describe("lineEvent", () => {
  it.each([
    { name: "ready", line: '{"level":30,"msg":"ready"}', want: { ready: true } },
    {
      name: "proxy listening",
      line: '{"msg":"listening","server":"proxy","address":"http://0.0.0.0:8080"}',
      want: { listening: "http://0.0.0.0:8080", server: "proxy" },
    },
    {
      name: "spec listening (no server field)",
      line: '{"msg":"listening","address":"http://127.0.0.1:7070"}',
      want: { listening: "http://127.0.0.1:7070", server: "http" },
    },
    { name: "listening without an address", line: '{"msg":"listening"}', want: null },
    { name: "other message", line: '{"msg":"replica phase"}', want: null },
    { name: "text mentioning ready", line: "ready", want: null },
    { name: "broken JSON", line: '{"msg":"ready"', want: null },
  ])("$name", ({ line, want }) => {
    expect(lineEvent(line)).toEqual(want);
  });
});

describe("showNatsLine", () => {
  it.each([
    { line: "[1] 2026/11/28 13:55:03.275 [INF] Starting JetStream", show: false },
    {
      line: "[1] 2026/11/28 13:55:03.275 [WRN] Plaintext passwords detected, use nkeys or bcrypt",
      show: false,
    },
    { line: "[1] 2026/11/28 13:55:03.275 [ERR] Error listening on port: 4333", show: true },
    { line: "[1] 2026/11/28 13:55:03.275 [WRN] JetStream resource limits", show: true },
    { line: "[1] 2026/11/28 13:55:03.275 [FTL] bad config", show: true },
  ])("$line → $show", ({ line, show }) => {
    expect(showNatsLine(line)).toBe(show);
  });
});
