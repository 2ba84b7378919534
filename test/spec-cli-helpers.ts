import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Io, runCli } from "@switchyard/cli";
import { REPO_ROOT, run } from "@switchyard/testkit";

/** The CLI as a real process: `node --import tsx cli/src/main.ts ARGS`. */
export function yard(args: string[], env: NodeJS.ProcessEnv = {}) {
  return run("cli/src/main.ts", args, env).then((r) => ({ ...r, all: r.stdout + r.stderr }));
}

/** The CLI in this process (for the 36-file fixture loop): same code path, no tsx start-up. */
export async function yardInProcess(args: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    write: (t) => out.push(t),
    env: { ...process.env, NATS_URL: undefined, ...env },
    cwd: REPO_ROOT,
    signal: new AbortController().signal,
    now: () => Date.now(),
  };
  const code = await runCli(args, io);
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

export const tmp = mkdtempSync(join(tmpdir(), "yard-spec-cli-"));

/** Write a service YAML into the suite's temp dir and return its path. */
export function writeYaml(file: string, text: string): string {
  const p = join(tmp, file);
  writeFileSync(p, text);
  return p;
}

/** A small service with a bearer-token probe (the seed's shape, no GPUs). */
export function serviceYaml(name: string, replicas = 1, extra = ""): string {
  return `name: ${name}
envs:
  AUTH_TOKEN:
run: echo serving on 8000
resources:
  ports: 8000
service:
  readiness_probe:
    path: /v1/models
    headers:
      Authorization: Bearer $AUTH_TOKEN
  replicas: ${replicas}
${extra}`;
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
