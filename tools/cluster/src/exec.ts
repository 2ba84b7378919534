import { spawn } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run a program to its end. Output is captured, or appended to `logFile` (long builds), and each
 * line is offered to `onLine` (progress). Never throws for a non-zero exit: the caller decides.
 */
export function run(
  cmd: string,
  args: string[],
  opts: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    logFile?: string;
    onLine?: (l: string) => void;
    input?: string;
  } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const fd = opts.logFile ? openSync(opts.logFile, "a") : undefined;
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let partial = "";
    const take = (d: Buffer, which: "out" | "err") => {
      const s = d.toString();
      if (fd === undefined) {
        if (which === "out") stdout += s;
        else stderr += s;
      } else {
        writeSync(fd, d);
        // Keep the tail for an error message.
        stderr = (stderr + s).slice(-4000);
      }
      if (opts.onLine) {
        const lines = (partial + s).split("\n");
        partial = lines.pop() ?? "";
        for (const l of lines) opts.onLine(l);
      }
    };
    child.stdout.on("data", (d: Buffer) => take(d, "out"));
    child.stderr.on("data", (d: Buffer) => take(d, "err"));
    // A child that exits without reading its stdin makes this write fail (EPIPE): its exit code
    // says what happened, so the write error itself is dropped rather than crashing us.
    child.stdin.on("error", () => {});
    child.stdin.end(opts.input ?? "");
    child.on("error", (err) => {
      if (fd !== undefined) closeSync(fd);
      resolve({ code: 127, stdout, stderr: `${stderr}${(err as Error).message}` });
    });
    child.on("close", (code, sig) => {
      if (fd !== undefined) closeSync(fd);
      resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr });
    });
  });
}

/** `run` that throws with the command's last output when it fails. */
export async function mustRun(
  cmd: string,
  args: string[],
  opts: Parameters<typeof run>[2] = {},
): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const tail = (r.stderr || r.stdout).trim().split("\n").slice(-8).join("\n");
    throw new Error(
      `${cmd} ${args[0] ?? ""} failed (exit ${r.code})${opts.logFile ? `, log: ${opts.logFile}` : ""}\n${tail}`,
    );
  }
  return r.stdout;
}
