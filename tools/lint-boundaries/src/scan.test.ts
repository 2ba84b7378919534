import { describe, expect, it } from "vitest";
import { codeView, importsOf, lineOf, processExits } from "./scan.js";

const specs = (src: string) => importsOf(codeView(src)).map((r) => [r.specifier, r.typeOnly]);
const exits = (src: string) => processExits(codeView(src)).length;

describe("codeView", () => {
  it("keeps length and line breaks, blanks comments and string bodies", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source under test
    const src = 'const a = "x // y"; // process.exit(1)\n/* b\n c */ f(`t${1}t`);\n';
    const v = codeView(src);
    expect(v.code).toHaveLength(src.length);
    expect(v.code.split("\n")).toHaveLength(src.split("\n").length);
    expect(v.code).not.toContain("process");
    expect(v.code).not.toContain("//");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source under test
    expect(v.code).toContain("${1}");
    expect([...v.strings.values()]).toEqual(["x // y"]);
  });

  it.each([
    ["a regex with quotes", 'const r = /["\'`]/g; import x from "m";', [["m", false]]],
    ["a regex after return", 'function f() { return /"/.test(s); }\nimport "m";', [["m", false]]],
    ["a division is not a regex", 'const q = a / b; const z = c / d;\nimport "m";', [["m", false]]],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source under test
    ["a template with code inside", 'const t = `a ${g({ k: "v" })} "b`;\nimport "m";', [["m", false]]],
    ["an escaped quote", 'const s = "a\\"b";\nimport "m";', [["m", false]]],
  ])("is not fooled by %s", (_name, src, want) => {
    expect(specs(src)).toEqual(want);
  });
});

describe("importsOf", () => {
  it("finds every kind of import and tells type-only ones", () => {
    const src = [
      'import a from "a";',
      'import type { B } from "b";',
      'import {\n  c,\n  type C,\n} from "c";',
      'export * from "d";',
      'export type { E } from "e";',
      'import "f";',
      'const g = await import("g");',
      'const h = require("h");',
      'const notImport = obj.import("i");',
      '// import j from "j";',
      "const s = \"import k from 'k'\";",
    ].join("\n");
    expect(specs(src)).toEqual([
      ["a", false],
      ["b", true],
      ["c", false],
      ["d", false],
      ["e", true],
      ["f", false],
      ["g", false],
      ["h", false],
    ]);
  });
});

describe("processExits", () => {
  it.each([
    ["process.exit(1)", 1],
    ["process .exit(0)", 1],
    ["process?.exit(0)", 1],
    ['process["exit"](1)', 1],
    ["const { exit } = process;", 1],
    ["const { argv, exit: quit } = globalThis.process;", 1],
    ["process.exitCode = 1", 0],
    ["myprocess.exit(1)", 0],
    ["// process.exit(1)", 0],
    ['log("process.exit(1)")', 0],
    ["`then process.exit`", 0],
  ])("%s → %i", (src, n) => {
    expect(exits(src)).toBe(n);
  });
});

it("lineOf counts from 1", () => {
  expect(lineOf("a\nb\nc", 0)).toBe(1);
  expect(lineOf("a\nb\nc", 4)).toBe(3);
});
