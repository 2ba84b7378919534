import { builtinModules } from "node:module";
import { posix } from "node:path";
import { codeView, importsOf, lineOf, processExits } from "./scan.js";

/**
 * The boundary rules biome cannot express (`pnpm lint` runs biome, then this checker; CI runs
 * `pnpm lint`). Biome's noRestrictedImports (biome.json) covers the rest: `@nats-io/*` only in
 * libs/bus, and no `@switchyard/<pkg>/src/…` import.
 *
 *   src-deep-import    a relative import that reaches into another package's `src/`
 *                      (`../../libs/bus/src/kv.js`): import the package by its name instead.
 *   pure-io-import     a module marked pure imports I/O: a Node built-in (`node:*` or bare
 *                      `fs`), fastify, undici, pino, `@nats-io/*`, or the I/O libraries
 *                      `@switchyard/{bus,runtime,testkit}`. `import type` is allowed (erased).
 *   pure-marker        the marker is somewhere other than the first line, so it would not count.
 *   exit-outside-main  `process.exit` in a file not named `main.ts`: a library returns or
 *                      throws, and the program's main.ts decides the exit (or injects `exit`).
 *
 * How a module is marked pure: its FIRST line is a line comment starting `// @pure`, e.g.
 *   // @pure: decisions only, no I/O
 * The mark sits where a reader of the file sees it, travels with the file on a rename, and a
 * new pure module opts in by itself; nothing else has to list it. (`pure-marker` catches a
 * mark that slipped below the first line and would silently stop applying.)
 */

export type RuleId = "src-deep-import" | "pure-io-import" | "pure-marker" | "exit-outside-main";

export interface Violation {
  /** Path relative to the checked root, with forward slashes. */
  file: string;
  line: number;
  rule: RuleId;
  message: string;
}

export interface SourceFile {
  /** Relative to the root, forward slashes. */
  path: string;
  source: string;
}

const PURE_MARK = /^\/\/\s*@pure\b/;
const BUILTINS = new Set(builtinModules);
const IO_PACKAGES = [
  /^fastify(\/|$)/,
  /^fastify-/,
  /^@fastify\//,
  /^undici(\/|$)/,
  /^pino(\/|$)/,
  /^@nats-io\//,
  /^@switchyard\/(bus|runtime|testkit)(\/|$)/,
];

export function isPure(source: string): boolean {
  return PURE_MARK.test(source);
}

function isIo(specifier: string): boolean {
  if (specifier.startsWith("node:") || BUILTINS.has(specifier.split("/")[0]!)) return true;
  return IO_PACKAGES.some((re) => re.test(specifier));
}

/** The package a path belongs to: the deepest directory in `packages` (those with a package.json) above it. */
export function packageOf(path: string, packages: readonly string[]): string | null {
  let best: string | null = null;
  for (const p of packages) {
    const inside = p === "" || path === p || path.startsWith(`${p}/`);
    if (inside && (best === null || p.length > best.length)) best = p;
  }
  return best;
}

/**
 * Check files against the rules. `packages` lists every package directory relative to the
 * root ("" for the root itself).
 */
export function checkFiles(files: readonly SourceFile[], packages: readonly string[]): Violation[] {
  const out: Violation[] = [];
  for (const f of files) {
    const view = codeView(f.source);
    const at = (offset: number) => lineOf(f.source, offset);
    const pure = isPure(f.source);
    const own = packageOf(f.path, packages);

    if (!pure) {
      const lines = f.source.split("\n").slice(0, 10);
      const misplaced = lines.findIndex((l) => /^\s*(\/\/|\/?\*).*@pure\b/.test(l));
      if (misplaced > 0)
        out.push({
          file: f.path,
          line: misplaced + 1,
          rule: "pure-marker",
          message: "the @pure marker counts only as the file's first line, written `// @pure…`",
        });
    }

    for (const ref of importsOf(view)) {
      if (pure && !ref.typeOnly && isIo(ref.specifier))
        out.push({
          file: f.path,
          line: at(ref.offset),
          rule: "pure-io-import",
          message: `module marked @pure imports "${ref.specifier}" (I/O): move the I/O to an adapter and pass data or a function in`,
        });
      if (ref.specifier.startsWith("./") || ref.specifier.startsWith("../")) {
        const target = posix.normalize(posix.join(posix.dirname(f.path), ref.specifier));
        const pkg = packageOf(target, packages);
        const inPkg = pkg === null || pkg === "" ? target : target.slice(pkg.length + 1);
        if (pkg !== own && (inPkg === "src" || inPkg.startsWith("src/")))
          out.push({
            file: f.path,
            line: at(ref.offset),
            rule: "src-deep-import",
            message: `"${ref.specifier}" reaches into the src/ of another package (${pkg || "the root"}): import that package by name`,
          });
      }
    }

    if (posix.basename(f.path) !== "main.ts") {
      for (const offset of processExits(view))
        out.push({
          file: f.path,
          line: at(offset),
          rule: "exit-outside-main",
          message:
            "process.exit outside a main.ts: return or throw and let main.ts exit, or take `exit` from main.ts",
        });
    }
  }
  return out;
}

export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line}: ${v.rule}: ${v.message}`;
}
