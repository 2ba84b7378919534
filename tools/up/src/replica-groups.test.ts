import type { ProcStat } from "@switchyard/runtime";
import { describe, expect, it } from "vitest";
import { recordedGroup } from "./replica-groups.js";

const self = { pid: 500, pgrp: 400 };
const leader = (startTime: number): ProcStat => ({ state: "S", ppid: 1, pgrp: 1234, startTime });

describe("recordedGroup: which recorded replica group the launcher may stop", () => {
  it.each([
    {
      name: "a live leader with the recorded start time",
      file: "1234",
      content: "777\n",
      leader: leader(777),
      want: 1234,
    },
    { name: "leader gone (its group may live on)", file: "1234", content: "777\n", leader: null, want: 1234 },
    {
      name: "start time unknown (no /proc when recorded)",
      file: "1234",
      content: "\n",
      leader: leader(9),
      want: 1234,
    },
    {
      name: "pid reused by another process: stale",
      file: "1234",
      content: "777\n",
      leader: leader(778),
      want: null,
    },
    { name: "this launcher's own pid", file: "500", content: "", leader: null, want: null },
    { name: "this launcher's own group", file: "400", content: "", leader: null, want: null },
    { name: "init", file: "1", content: "", leader: null, want: null },
    { name: "zero (would signal our own group)", file: "0", content: "", leader: null, want: null },
    { name: "negative", file: "-5", content: "", leader: null, want: null },
    { name: "leading zero", file: "01234", content: "", leader: null, want: null },
    { name: "not a number", file: "../etc", content: "", leader: null, want: null },
    { name: "too large for a pid", file: "99999999999", content: "", leader: null, want: null },
    { name: "a note for the provisioner", file: "1234.stopped", content: "777", leader: null, want: null },
  ])("$name → $want", ({ file, content, leader, want }) => {
    expect(recordedGroup(file, content, leader, self)).toBe(want);
  });
});
