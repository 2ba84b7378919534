import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "@switchyard/testkit";
import { afterAll, describe, expect, it } from "vitest";

/**
 * .ci/checks (what CI runs) on copies of docker-compose.yml and deploy/nats/*.conf: it passes
 * on the real files and fails, naming the file and the error, on a broken copy.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function copyWith(edit: { compose?: (s: string) => string; nats?: (s: string) => string }): string {
  const dir = mkdtempSync(join(tmpdir(), "yard-checks-"));
  dirs.push(dir);
  mkdirSync(join(dir, "deploy", "nats"), { recursive: true });
  const files = [
    { rel: "docker-compose.yml", edit: edit.compose },
    { rel: "deploy/nats/yard.conf", edit: edit.nats },
  ];
  for (const f of files) {
    const text = readFileSync(join(REPO_ROOT, f.rel), "utf8");
    const out = f.edit ? f.edit(text) : text;
    // A broken copy must really differ, or the test would prove nothing.
    if (f.edit && out === text) throw new Error(`the edit of ${f.rel} changed nothing`);
    writeFileSync(join(dir, f.rel), out);
  }
  return dir;
}

function checks(dir?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile("bash", [join(REPO_ROOT, ".ci", "checks"), ...(dir ? [dir] : [])], (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

// Each case runs dclint, docker-compose config (Python) and nats-server: 7-30 s on a loaded
// 2-core machine, past vitest's default 30 s there.
describe(".ci/checks", { timeout: 120_000 }, () => {
  it("passes on the repository's compose file and NATS config", async () => {
    const r = await checks();
    expect(r.out).toMatch(/ok\s+\S*docker-compose\.yml/);
    expect(r.out).toMatch(/ok\s+\S*yard\.conf/);
    expect(r.code).toBe(0);
  });

  it("passes on an unchanged copy (the failures below come from the edits)", async () => {
    expect((await checks(copyWith({}))).code).toBe(0);
  });

  it.each([
    {
      name: "a misspelt service key",
      compose: (s: string) =>
        s.replace(
          '    command: ["node", "--import", "tsx", "services/prober',
          '    comand: ["node", "--import", "tsx", "services/prober',
        ),
      error: /\/services\/prober.*must NOT have additional properties/,
    },
    {
      name: "ports given as a string",
      // The proxy's one published port, its list dash dropped.
      compose: (s: string) => s.replace(/^ {6}- ("\$\{YARD_COMPOSE_PROXY_ADDRESS.*:8080")$/m, "      $1"),
      error: /\/services\/proxy\/ports.*must be array/,
    },
    {
      name: "a misspelt key in the shared service block",
      compose: (s: string) => s.replace("  build: .", "  biuld: ."),
      error: /must NOT have additional properties/,
    },
  ])("fails on a compose file with $name", async ({ compose, error }) => {
    const dir = copyWith({ compose });
    const r = await checks(dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/FAIL\s+\S*docker-compose\.yml does not match the compose-spec schema/);
    expect(r.out).toMatch(error);
    expect(r.out).toMatch(/ok\s+\S*yard\.conf/);
  });

  it.each([
    {
      name: "an unclosed users block",
      nats: (s: string) => s.replace(/\n\s*\]\n\}\n$/, "\n"),
      error: /yard\.conf/,
    },
    {
      name: "a permission list that is not a list of subjects",
      nats: (s: string) =>
        s.replace(
          /subscribe: \{ allow: \[\n\s*"_INBOX_spec\.>"/,
          "subscribe: { allow: [\n          { x: 1 }",
        ),
      error: /permissions|cast to string|subject/i,
    },
    {
      name: "an unknown top-level option",
      nats: (s: string) => s.replace("jetstream: enabled", "jetstream: enabled\nno_such_option: true"),
      error: /unknown field "no_such_option"/,
    },
  ])("fails on a NATS config with $name", async ({ nats, error }) => {
    const dir = copyWith({ nats });
    const r = await checks(dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/FAIL\s+\S*yard\.conf is not a valid nats-server config/);
    expect(r.out).toMatch(error);
    expect(r.out).toMatch(/ok\s+\S*docker-compose\.yml/);
  });
});
