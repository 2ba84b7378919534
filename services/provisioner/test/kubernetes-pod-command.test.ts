import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerSkipReason } from "@switchyard/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { POD_COMMAND } from "../src/backends/kubernetes/pod-spec.js";
import { RUNNER_SCRIPT } from "../src/backends/replica-env.js";

// The replica Pod's command as PID 1 of a real container (Docker, the project image, its
// non-root user), laid out as the kubelet lays it out: the Secret's scripts read-only at
// /yard/spec, an empty /yard/replica, a /dev/termination-log. No cluster needed.
const IMAGE = "switchyard:local";
const why = await dockerSkipReason([IMAGE]);
if (why) console.warn(`services/provisioner/test/kubernetes-pod-command.test.ts skipped: ${why}`);

const dirs: string[] = [];
const names: string[] = [];
afterAll(async () => {
  for (const n of names) await docker(["rm", "-f", n]).catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function docker(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("docker", args, { timeout: 120_000 }, (err, out, errOut) =>
      err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out.trim()),
    ),
  );
}

/** Start the container with these scripts; returns its name and the termination-log file. */
async function start(setup: string, run: string) {
  const dir = mkdtempSync(join(tmpdir(), "yard-podcmd-"));
  dirs.push(dir);
  mkdirSync(join(dir, "spec"));
  writeFileSync(join(dir, "spec", "setup.sh"), setup);
  writeFileSync(join(dir, "spec", "run.sh"), run);
  writeFileSync(join(dir, "termination-log"), "");
  chmodSync(dir, 0o755);
  chmodSync(join(dir, "spec"), 0o755);
  chmodSync(join(dir, "termination-log"), 0o666);
  const name = `yard-podcmd-${names.length}-${process.pid}`;
  names.push(name);
  await docker([
    "run",
    "-d",
    "--name",
    name,
    "--network",
    "none",
    "-e",
    "YARD_REPLICA_DIR=/yard/replica",
    "-v",
    `${join(dir, "spec")}:/yard/spec:ro`,
    "-v",
    `${join(dir, "termination-log")}:/dev/termination-log`,
    "--tmpfs",
    "/yard/replica:mode=1777",
    IMAGE,
    "bash",
    "-c",
    POD_COMMAND,
    RUNNER_SCRIPT,
  ]);
  return { name, message: () => readFileSync(join(dir, "termination-log"), "utf8").trim() };
}

describe.skipIf(why !== null)("the replica Pod's command in a container", () => {
  it("setup exiting 3: the container exits 3 and its termination message says `setup 3`", async () => {
    const c = await start("echo preparing; exit 3\n", "sleep 60\n");
    expect(await docker(["wait", c.name])).toBe("3");
    expect(c.message()).toBe("setup 3");
    expect(await docker(["logs", c.name])).toContain("preparing");
  }, 120_000);

  it("SIGTERM to PID 1 reaches run: it stops within the grace, `run 143`, after marking the run start", async () => {
    const c = await start("", "echo serving\nsleep 600\n");
    // The marker the startup probe looks for, awaited with the probe's own command.
    await docker(["exec", c.name, "sh", "-c", "until test -e /yard/replica/run.started; do sleep 0.1; done"]);
    // Had the signal stayed with PID 1, `docker stop` would SIGKILL it after the grace: 137.
    await docker(["stop", "-t", "60", c.name]);
    expect(await docker(["inspect", "-f", "{{.State.ExitCode}}", c.name])).toBe("143");
    expect(c.message()).toBe("run 143");
  }, 120_000);
});
