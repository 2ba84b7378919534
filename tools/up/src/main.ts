import { fileURLToPath } from "node:url";
import { onGroupLeaderGone } from "./child.js";
import { createLauncher, StartError } from "./launcher.js";
import { parseOptions, USAGE } from "./options.js";

/** `pnpm start`: the whole system on this machine without Docker. See docs/deploy.md. */
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const parsed = parseOptions(process.argv.slice(2), process.env, {
  repoRoot,
  cwd: process.cwd(),
  isTty: process.stdout.isTTY === true,
});
if (!parsed.ok) {
  console.error(parsed.error);
  process.exit(2);
}
if (parsed.options.help) {
  console.log(USAGE);
  process.exit(0);
}

const up = createLauncher(parsed.options, repoRoot);
let exitCode = 0;
let shuttingDown = false;
const shutdown = async (why: string, code: number) => {
  if (shuttingDown) return;
  shuttingDown = true;
  exitCode = code;
  up.say(`${why}: stopping everything`);
  await up.stop();
  up.say("stopped");
  process.exit(exitCode);
};
process.on("SIGINT", () => void shutdown("SIGINT", 0));
process.on("SIGTERM", () => void shutdown("SIGTERM", 0));
process.on("SIGHUP", () => void shutdown("SIGHUP", 0));
onGroupLeaderGone(() => void shutdown("pnpm exited", 0));
// Whoever read our output is gone (terminal closed, pipe reader exited): writes would fail with
// EPIPE and crash us, orphaning everything. Stop cleanly instead.
for (const s of [process.stdout, process.stderr]) s.on("error", () => void shutdown("output closed", 0));
// A bug here must not orphan the services: stop them, then fail.
process.on("uncaughtException", (err) => void shutdown(`launcher error: ${err.stack ?? err}`, 1));

// Once started, the launcher supervises: a process that exits is restarted, nothing here ends
// but a signal (or the group leader, or our output, going away).
try {
  await up.start();
} catch (err) {
  if (!shuttingDown) {
    const msg = err instanceof StartError ? err.message : String((err as Error)?.stack ?? err);
    up.say(`cannot start: ${msg}`);
    await shutdown("start failed", 1);
  }
}
