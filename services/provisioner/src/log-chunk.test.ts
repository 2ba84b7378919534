import { describe, expect, it } from "vitest";
import { chunkRange, completeUtf8Length } from "./log-chunk.js";

describe("chunkRange", () => {
  it.each([
    { name: "from the start", size: 100, r: { offset: 0, max_bytes: 1000 }, out: { start: 0, length: 100 } },
    {
      name: "capped by max_bytes",
      size: 100,
      r: { offset: 10, max_bytes: 20 },
      out: { start: 10, length: 20 },
    },
    {
      name: "tail",
      size: 100,
      r: { offset: 0, tail_bytes: 30, max_bytes: 1000 },
      out: { start: 70, length: 30 },
    },
    {
      name: "tail bigger than file",
      size: 10,
      r: { offset: 0, tail_bytes: 30, max_bytes: 1000 },
      out: { start: 0, length: 10 },
    },
    {
      name: "tail ignored when following",
      size: 100,
      r: { offset: 90, tail_bytes: 30, max_bytes: 1000 },
      out: { start: 90, length: 10 },
    },
    {
      name: "offset past the end",
      size: 10,
      r: { offset: 50, max_bytes: 1000 },
      out: { start: 10, length: 0 },
    },
  ])("$name", ({ size, r, out }) => {
    expect(chunkRange(size, r)).toEqual(out);
  });
});

describe("completeUtf8Length", () => {
  const euro = Buffer.from("a€", "utf8"); // 61 e2 82 ac
  it.each([
    { name: "ascii", buf: Buffer.from("abc"), n: 3 },
    { name: "complete multibyte", buf: euro, n: 4 },
    { name: "cut after 2 of 3 bytes", buf: euro.subarray(0, 3), n: 1 },
    { name: "cut after the lead byte", buf: euro.subarray(0, 2), n: 1 },
    { name: "empty", buf: Buffer.alloc(0), n: 0 },
  ])("$name", ({ buf, n }) => {
    expect(completeUtf8Length(buf)).toBe(n);
  });
});
