import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";
import type { SourceFile } from "./check.js";

const CODE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** Skipped while walking: dependencies, dot-dirs (.git, .yard), build output, test data. */
function skipDir(rel: string, name: string): boolean {
  return (
    name === "node_modules" ||
    name.startsWith(".") ||
    name === "dist" ||
    name === "coverage" ||
    rel === "test/data" ||
    rel.endsWith("/test/data")
  );
}

/** Every code file under `root` and every package directory (one holding a package.json). */
export function readTree(root: string): { files: SourceFile[]; packages: string[] } {
  const files: SourceFile[] = [];
  const packages: string[] = [];
  const walk = (dir: string) => {
    const rel = relative(root, dir).split(sep).join(posix.sep);
    if (existsSync(join(dir, "package.json"))) packages.push(rel);
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!skipDir(childRel, e.name)) walk(join(dir, e.name));
      } else if (e.isFile() && CODE.test(e.name) && !e.name.endsWith(".d.ts")) {
        files.push({ path: childRel, source: readFileSync(join(dir, e.name), "utf8") });
      }
    }
  };
  walk(root);
  return { files, packages };
}
