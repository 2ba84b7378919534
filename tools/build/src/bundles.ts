// @pure: which bundles there are and the esbuild options that make each; no I/O
import type { BuildOptions } from "esbuild";

/**
 * One service entry bundled with everything it imports (workspace packages and node_modules)
 * into a single ES module that plain `node` runs: no tsx, no module resolution across hundreds
 * of files at start. Paths are relative to the repository root.
 */
export interface Bundle {
  name: string;
  /** The TypeScript entry, as `node --import tsx` would run it. */
  entry: string;
  /** Where the bundle is written (gitignored: every `pnpm build` and `pnpm start` remakes it). */
  outfile: string;
}

/**
 * The proxy: its cold start (spawn → admin server listening) is part of "routing N endpoints
 * within 2 s of start", and tsx's boot was ~1 s of it. The other services start once and stay
 * up, so they keep running their source through tsx.
 */
export const PROXY_BUNDLE: Bundle = {
  name: "proxy",
  entry: "services/proxy/src/main.ts",
  outfile: "services/proxy/dist/main.mjs",
};

export const BUNDLES: readonly Bundle[] = [PROXY_BUNDLE];

/**
 * The CommonJS packages inside an ES module bundle (fastify, pino, prom-client, …) call
 * `require("node:…")` for built-ins; esbuild leaves those calls to a `require` that an ES module
 * does not have. This gives it one. (Only built-ins are left to it: everything else is inlined.)
 */
export const REQUIRE_SHIM =
  'import { createRequire as __yardCreateRequire } from "node:module"; const require = __yardCreateRequire(import.meta.url);';

/**
 * esbuild's options for a bundle: Node 20, ES module (the sources use top-level await), every
 * import inlined. Not minified, so stack traces keep the functions' names and the bundle names
 * each source file in a comment above its code. `write: false`: the adapter writes the file
 * itself (atomically). Nothing here resolves files at run time relative to the bundle: pino runs
 * with a synchronous destination (no worker-thread transport, whose worker file a bundle lacks).
 */
export function esbuildOptions(b: Bundle, repoRoot: string): BuildOptions {
  return {
    absWorkingDir: repoRoot,
    entryPoints: [b.entry],
    outfile: b.outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    banner: { js: REQUIRE_SHIM },
    legalComments: "none",
    write: false,
    logLevel: "silent",
  };
}

/** `built services/proxy/dist/main.mjs (4.0 MB) in 812 ms` */
export function builtLine(outfile: string, bytes: number, ms: number): string {
  return `built ${outfile} (${(bytes / 1e6).toFixed(1)} MB) in ${Math.round(ms)} ms`;
}
