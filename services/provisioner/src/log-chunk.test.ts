import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { maskText } from "@switchyard/contracts";
import { afterAll, describe, expect, it } from "vitest";
import { chunkRange, completeUtf8Length, maskWindow, readChunk, readMaskedChunk } from "./log-chunk.js";

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

describe("maskWindow", () => {
  const secrets = ["tok-123456789", "h"];
  it.each([
    {
      name: "final: everything, masked",
      text: "a tok-123456789 h",
      from: 0,
      final: true,
      data: "a *** ***",
      end: 17,
    },
    {
      name: "holds back a secret's first half",
      text: "key=tok-1234",
      from: 0,
      final: false,
      data: "key=",
      end: 4,
    },
    {
      name: "holds back a whole short secret (boundary unknown)",
      text: "x h",
      from: 0,
      final: false,
      data: "x ",
      end: 2,
    },
    {
      name: "short secret inside a word is not held",
      text: "python",
      from: 0,
      final: false,
      data: "python",
      end: 6,
    },
    {
      name: "lookbehind is not sent",
      text: "tok-123456789 after",
      from: 13,
      final: true,
      data: " after",
      end: 19,
    },
    {
      name: "a secret that began in the lookbehind",
      text: "xtok-123456789 y",
      from: 5,
      final: true,
      data: "*** y",
      end: 16,
    },
  ])("$name", ({ text, from, final, data, end }) => {
    expect(maskWindow(text, from, secrets, final)).toEqual({ data, end });
  });
});

describe("readMaskedChunk", () => {
  const dir = mkdtempSync(join(tmpdir(), "yard-log-chunk-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const secrets = ["tok-9c1e5b7a-never", "h"];
  const log =
    "Starting python server\n" +
    "key=tok-9c1e5b7a-never; short=h; twice tok-9c1e5b7a-nevertok-9c1e5b7a-never\n" +
    "€ unicode tok-9c1e5b7a-never € and Bearer h\n";

  /** Follow the file as `yard logs --follow` does, `max_bytes` at a time, until final. */
  function follow(file: string, max_bytes: number, more: () => boolean, onEmpty: () => boolean): string {
    let out = "";
    let offset = 0;
    for (;;) {
      const c = readMaskedChunk(file, { offset, max_bytes }, secrets, more());
      out += c.data;
      if (c.data === "" && !onEmpty()) return out;
      offset = c.next_offset;
    }
  }

  it.each([1, 3, 7, 19, 20, 33, 64, 1000])("max_bytes %i: same as masking the whole log", (max) => {
    const file = join(dir, `whole-${max}.log`);
    writeFileSync(file, log);
    const out = follow(
      file,
      max,
      () => false,
      () => false,
    );
    expect(out).toBe(maskText(log, secrets));
    expect(out).toContain("python");
    expect(out).not.toContain("tok-");
  });

  it.each([1, 2, 5, 11])(
    "written %i bytes at a time while the replica runs: no secret half leaks",
    (step) => {
      const file = join(dir, `growing-${step}.log`);
      const bytes = Buffer.from(log);
      writeFileSync(file, "");
      let written = 0;
      const out = follow(
        file,
        16,
        () => written < bytes.length,
        () => {
          if (written >= bytes.length) return false;
          appendFileSync(file, bytes.subarray(written, written + step));
          written += step;
          return true;
        },
      );
      expect(out).toBe(maskText(log, secrets));
    },
  );

  it("a tail that starts inside a secret shows *** for its rest", () => {
    const file = join(dir, "tail.log");
    writeFileSync(file, "aaaa tok-9c1e5b7a-never bbbb\n");
    const c = readMaskedChunk(file, { offset: 0, tail_bytes: 16, max_bytes: 1000 }, secrets, false);
    expect(c).toEqual({ data: "*** bbbb\n", next_offset: 29 });
  });

  it("without secrets it is readChunk", () => {
    const file = join(dir, "plain.log");
    writeFileSync(file, "a h\n");
    expect(readMaskedChunk(file, { offset: 0, max_bytes: 2 }, [], true)).toEqual(
      readChunk(file, { offset: 0, max_bytes: 2 }),
    );
  });
});
