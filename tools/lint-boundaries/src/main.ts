import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkFiles, formatViolation } from "./check.js";
import { readTree } from "./tree.js";

// `pnpm lint` (after biome): the boundary rules of check.ts over the repo, or over the directory
// given as the only argument. Prints one line per violation (file:line: rule: message); exit 1
// when there is any.
const root = resolve(process.argv[2] ?? fileURLToPath(new URL("../../../", import.meta.url)));
const { files, packages } = readTree(root);
const violations = checkFiles(files, packages);
for (const v of violations) console.error(formatViolation(v));
if (violations.length > 0) {
  console.error(`lint-boundaries: ${violations.length} violation(s) in ${files.length} files`);
  process.exit(1);
}
console.log(`lint-boundaries: ${files.length} files, no violations`);
