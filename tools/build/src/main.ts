import { fileURLToPath } from "node:url";
import { BuildError, buildBundle } from "./build.js";
import { BUNDLES } from "./bundles.js";

// `pnpm build`: writes every bundle of bundles.ts (today the proxy's, services/proxy/dist/main.mjs).
// `pnpm start`, the image and the benches build it themselves before they run it; this is for
// running `node services/proxy/dist/main.mjs` by hand. Exit 1 when a bundle does not build.
const USAGE = `usage: pnpm build

Bundles each service that runs from a bundle (esbuild, Node 20, one ES module):
${BUNDLES.map((b) => `  ${b.name}: ${b.entry} -> ${b.outfile}`).join("\n")}
Run the proxy's with: node ${BUNDLES[0]!.outfile}`;

const args = process.argv.slice(2);
if (args.includes("-h") || args.includes("--help")) {
  console.log(USAGE);
  process.exit(0);
}
if (args.length > 0) {
  console.error(`build: unexpected argument ${args[0]}\n\n${USAGE}`);
  process.exit(2);
}
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
try {
  for (const b of BUNDLES) {
    const built = await buildBundle(b, repoRoot);
    for (const w of built.warnings) console.error(w.trimEnd());
    console.log(built.line);
  }
} catch (err) {
  console.error(err instanceof BuildError ? err.message : String((err as Error)?.stack ?? err));
  process.exit(1);
}
