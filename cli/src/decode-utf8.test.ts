import { describe, expect, it } from "vitest";
import { decodeUtf8 } from "./io.js";

const b = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))));

describe("decodeUtf8: text, or the byte offset of the first byte that is not UTF-8", () => {
  it.each([
    { name: "ASCII", bytes: b("run: x\n"), text: "run: x\n" },
    { name: "multi-byte", bytes: b("name: café 😀\n"), text: "name: café 😀\n" },
    { name: "a BOM is dropped", bytes: b([0xef, 0xbb, 0xbf], "a: 1"), text: "a: 1" },
    { name: "a real U+FFFD is text", bytes: b("a: \ufffd"), text: "a: \ufffd" },
  ])("$name", ({ bytes, text }) => {
    expect(decodeUtf8(bytes)).toEqual({ ok: true, text });
  });

  it.each([
    { name: "Latin-1 é", bytes: b("name: caf", [0xe9], "\n"), offset: 9 },
    { name: "after multi-byte text", bytes: b("é😀", [0xff]), offset: 6 },
    { name: "after a BOM", bytes: b([0xef, 0xbb, 0xbf], "a", [0x80]), offset: 4 },
    { name: "after a real U+FFFD", bytes: b("\ufffd x", [0xc0, 0x80]), offset: 5 },
    { name: "an overlong NUL", bytes: b("a", [0xc0, 0x80]), offset: 1 },
    { name: "an encoded surrogate", bytes: b("ab", [0xed, 0xa0, 0x80]), offset: 2 },
    { name: "a sequence cut at the end", bytes: b("abc", [0xe2, 0x82]), offset: 3 },
    { name: "UTF-16LE", bytes: Buffer.from("\ufeffa: 1", "utf16le"), offset: 0 },
  ])("$name → byte $offset", ({ bytes, offset }) => {
    expect(decodeUtf8(bytes)).toEqual({ ok: false, offset });
  });
});
