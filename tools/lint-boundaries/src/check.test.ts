import { describe, expect, it } from "vitest";
import { checkFiles, formatViolation, packageOf, type SourceFile } from "./check.js";

const PACKAGES = ["", "libs/bus", "services/proxy", "services/prober", "test"];
const check = (files: SourceFile[]) => checkFiles(files, PACKAGES).map(formatViolation);
const file = (path: string, ...lines: string[]): SourceFile => ({ path, source: lines.join("\n") });

describe("each rule fires on a planted violation, naming the file, line and rule", () => {
  it("src-deep-import: a relative import into another package's src/", () => {
    expect(
      check([file("services/proxy/src/a.ts", "// x", 'import { kv } from "../../../libs/bus/src/kv.js";')]),
    ).toEqual([expect.stringMatching(/^services\/proxy\/src\/a\.ts:2: src-deep-import: .*libs\/bus/)]);
    expect(check([file("test/x.test.ts", 'import { p } from "../services/prober/src";')])).toEqual([
      expect.stringMatching(/^test\/x\.test\.ts:1: src-deep-import: /),
    ]);
  });

  it("pure-io-import: node built-ins, fastify, undici and the I/O libraries in a module marked pure", () => {
    const got = check([
      file(
        "services/proxy/src/route-table.ts",
        "// @pure: decisions only",
        'import { readFileSync } from "node:fs";',
        'import { join } from "path";',
        'import Fastify from "fastify";',
        'import { request } from "undici";',
        'import { connectBus } from "@switchyard/bus";',
        'import type { Logger } from "@switchyard/bus";',
        'import { LbPolicy } from "@switchyard/contracts";',
        'import { z } from "zod";',
      ),
    ]);
    expect(got).toEqual(
      [2, 3, 4, 5, 6].map((line) =>
        expect.stringMatching(new RegExp(`^services/proxy/src/route-table\\.ts:${line}: pure-io-import: `)),
      ),
    );
  });

  it("pure-marker: a marker below the first line would silently not apply", () => {
    expect(check([file("services/proxy/src/lease.ts", 'import "./x.js";', "// @pure")])).toEqual([
      expect.stringMatching(/^services\/proxy\/src\/lease\.ts:2: pure-marker: /),
    ]);
  });

  it("exit-outside-main: process.exit anywhere but a main.ts", () => {
    expect(
      check([file("libs/bus/src/service-bus.ts", "export function f() {", "  process.exit(1);", "}")]),
    ).toEqual([expect.stringMatching(/^libs\/bus\/src\/service-bus\.ts:2: exit-outside-main: /)]);
  });
});

describe("what the rules allow", () => {
  it.each([
    ["process.exit in a main.ts", file("services/prober/src/main.ts", "process.exit(1);")],
    ["a package's own src/ from its test/", file("services/proxy/test/t.test.ts", 'import "../src/a.js";')],
    ["another package's test/ helpers", file("test/t.test.ts", 'import "../libs/bus/test/helpers.js";')],
    ["I/O in an unmarked module", file("services/proxy/src/serve.ts", 'import "node:http";')],
    [
      "a pure module with type-only I/O imports",
      file("a/b.ts", "// @pure", 'import type { X } from "undici";'),
    ],
    [
      "words in comments and strings",
      file("a/c.ts", '// process.exit(1)\nconst s = "node:fs process.exit";'),
    ],
  ])("%s", (_name, f) => {
    expect(check([f])).toEqual([]);
  });
});

it("packageOf picks the deepest package above a path, the root last", () => {
  expect(packageOf("libs/bus/src/kv.ts", PACKAGES)).toBe("libs/bus");
  expect(packageOf("libs/busy/src/kv.ts", PACKAGES)).toBe("");
  expect(packageOf("vitest.config.ts", PACKAGES)).toBe("");
});
