import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { build, formatMessages, stop } from "esbuild";
import { type Bundle, builtLine, esbuildOptions } from "./bundles.js";

export interface Built {
  bundle: Bundle;
  /** Absolute path of the bundle written. */
  path: string;
  bytes: number;
  ms: number;
  /** esbuild's warnings, formatted (none expected; shown by the callers). */
  warnings: string[];
  /** `built services/proxy/dist/main.mjs (4.0 MB) in 812 ms` */
  line: string;
}

/** A bundle that did not build: esbuild's errors, formatted with file, line and a code frame. */
export class BuildError extends Error {}

/** Builds in this process, one after another (see buildBundle). */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Bundle one entry (esbuild, ~1-2 s) and write it. The file is written beside the target and
 * renamed over it, so a proxy starting meanwhile, or a second build at once (two `pnpm start`s,
 * a test), reads a whole bundle, never half of one. esbuild's JS API runs a child process
 * (`esbuild --service`); it is stopped after each build, so that a caller that lives on (the
 * launcher, a bench) keeps no process it did not ask for, and a stop leaves none behind. Builds
 * called at once in one process run one after another: stopping the service ends a build in flight.
 */
export function buildBundle(bundle: Bundle, repoRoot: string): Promise<Built> {
  const next = queue.then(() => buildOne(bundle, repoRoot).finally(() => stop()));
  queue = next.catch(() => {});
  return next;
}

async function buildOne(bundle: Bundle, repoRoot: string): Promise<Built> {
  const t0 = performance.now();
  let result: Awaited<ReturnType<typeof build>>;
  try {
    result = await build(esbuildOptions(bundle, repoRoot));
  } catch (err) {
    const errors = (err as { errors?: Parameters<typeof formatMessages>[0] }).errors;
    if (!errors?.length) throw err;
    const text = await formatMessages(errors, { kind: "error", color: false });
    throw new BuildError(`${bundle.entry} does not bundle:\n${text.join("").trimEnd()}`);
  }
  const [out] = result.outputFiles ?? [];
  if (!out) throw new BuildError(`esbuild wrote nothing for ${bundle.entry}`);
  const tmp = `${out.path}.${process.pid}.tmp`;
  mkdirSync(dirname(out.path), { recursive: true });
  try {
    writeFileSync(tmp, out.contents);
    renameSync(tmp, out.path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  const ms = performance.now() - t0;
  const warnings = result.warnings.length
    ? await formatMessages(result.warnings, { kind: "warning", color: false })
    : [];
  return {
    bundle,
    path: out.path,
    bytes: out.contents.length,
    ms,
    warnings,
    line: builtLine(bundle.outfile, out.contents.length, ms),
  };
}
