import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// `pnpm lint` = biome (noRestrictedImports in biome.json) + the boundary checker. Each rule is
// planted in a scratch repo that uses the real biome.json, and must fire naming file and rule;
// then the real tree must be clean.
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(REPO, "node_modules", ".bin");
const CHECKER = join(REPO, "tools", "lint-boundaries", "src", "main.ts");

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** Biome's noRestrictedImports errors as `file:line: message` (GitHub reporter lines). */
async function restrictedImports(cwd: string, target = "."): Promise<string[]> {
  const r = await run(
    join(BIN, "biome"),
    ["lint", "--reporter=github", "--max-diagnostics=none", target],
    cwd,
  );
  return [
    ...r.out.matchAll(
      /^::error title=lint\/style\/noRestrictedImports,file=([^,]+),line=(\d+)[^:]*::(.*)$/gm,
    ),
  ]
    .map(([, file, line, message]) => `${file!.replace(`${cwd}/`, "")}:${line}: ${message}`)
    .sort();
}

let scratch: string;
const plant = (path: string, text: string) => {
  mkdirSync(dirname(join(scratch, path)), { recursive: true });
  writeFileSync(join(scratch, path), text);
};

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "lint-boundaries-"));
  copyFileSync(join(REPO, "biome.json"), join(scratch, "biome.json"));
  for (const p of ["", "libs/bus/", "services/x/"]) plant(`${p}package.json`, "{}\n");
  plant("libs/bus/src/client.ts", 'export { connect } from "@nats-io/transport-node";\n');
  plant("services/x/src/nats.ts", 'export { Kvm } from "@nats-io/kv";\n');
  plant("services/x/src/by-name.ts", 'export { tryOpenBucket } from "@switchyard/bus/src/kv.js";\n');
  plant("services/x/src/relative.ts", 'export { connect } from "../../../libs/bus/src/client.js";\n');
  plant("services/x/src/decide.ts", '// @pure: decisions only\nexport { readFileSync } from "node:fs";\n');
  plant("services/x/src/lib.ts", "export function stop(): void {\n  process.exit(1);\n}\n");
  plant("services/x/src/main.ts", "process.exit(0);\n");
});
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("pnpm lint on planted violations", () => {
  it("runs biome and then the boundary checker", () => {
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { scripts: { lint: string } };
    expect(pkg.scripts.lint).toMatch(/^biome ci \. && tsx tools\/lint-boundaries\/src\/main\.ts$/);
  });

  it("biome: @nats-io/* outside libs/bus, and @switchyard/<pkg>/src imports", async () => {
    expect(await restrictedImports(scratch)).toEqual([
      expect.stringMatching(/^services\/x\/src\/by-name\.ts:1: .*boundary rule: no deep imports/),
      expect.stringMatching(/^services\/x\/src\/nats\.ts:1: .*boundary rule: NATS only in libs\/bus/),
    ]);
  });

  it("checker: relative src/ imports across packages, I/O in pure modules, process.exit outside main.ts", async () => {
    const r = await run(join(BIN, "tsx"), [CHECKER, scratch], REPO);
    expect(r.code).toBe(1);
    const lines = r.out.split("\n").filter((l) => /^\S+:\d+: /.test(l));
    expect(lines).toEqual([
      expect.stringMatching(/^services\/x\/src\/decide\.ts:2: pure-io-import: .*"node:fs"/),
      expect.stringMatching(/^services\/x\/src\/lib\.ts:2: exit-outside-main: /),
      expect.stringMatching(/^services\/x\/src\/relative\.ts:1: src-deep-import: .*libs\/bus/),
    ]);
  });
});

describe("the real tree", () => {
  it("has no boundary violation", async () => {
    const r = await run(join(BIN, "tsx"), [CHECKER], REPO);
    expect(r.out).toContain("no violations");
    expect(r.code).toBe(0);
  });

  it("has no restricted import", async () => {
    expect(await restrictedImports(REPO)).toEqual([]);
  });
});
