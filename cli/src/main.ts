import { runCli } from "./program.js";

// `pnpm yard ...` runs in the repo root; relative paths are from where the user typed it.
const abort = new AbortController();
process.once("SIGINT", () => abort.abort());
const code = await runCli(process.argv.slice(2), {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  write: (t) => process.stdout.write(t),
  env: process.env,
  cwd: process.env.INIT_CWD || process.cwd(),
  signal: abort.signal,
  now: () => Date.now(),
});
process.exit(code);
