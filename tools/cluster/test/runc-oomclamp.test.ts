import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// The real wrapper script, run against a stand-in "real runc" that records its arguments and
// the config it was given (no container is made: this checks the rewrite, not runc).
const WRAPPER = fileURLToPath(new URL("../files/runc-oomclamp", import.meta.url));
const hasJq = spawnSync("jq", ["--version"]).status === 0;
if (!hasJq) console.warn("skipped runc-oomclamp tests: jq is not installed (apt-get install jq)");

const dir = mkdtempSync(join(tmpdir(), "yard-oomclamp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fake = join(dir, "runc");
writeFileSync(fake, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\n`);
chmodSync(fake, 0o755);

function wrap(args: string[], cwd = dir): string[] {
  execFileSync(WRAPPER, args, { cwd, env: { PATH: process.env.PATH, YARD_REAL_RUNC: fake } });
  return readFileSync(join(dir, "args"), "utf8").trim().split("\n");
}
function bundle(name: string, config: unknown): string {
  const b = join(dir, name);
  execFileSync("mkdir", ["-p", b]);
  writeFileSync(join(b, "config.json"), JSON.stringify(config));
  return b;
}
const cfg = (b: string) => JSON.parse(readFileSync(join(b, "config.json"), "utf8"));

describe.skipIf(!hasJq)("runc wrapper: a negative oom_score_adj becomes 0, nothing else changes", () => {
  it("create --bundle: -998 (the kubelet's sandbox value) → 0; arguments passed through as given", () => {
    const b = bundle("b1", {
      ociVersion: "1.0.2",
      process: { oomScoreAdj: -998, args: ["/pause"] },
      root: { path: "rootfs" },
    });
    const args = [
      "--root",
      "/var/run/docker/runtime-runc/moby",
      "--log",
      "/x/log.json",
      "--log-format",
      "json",
      "create",
      "--bundle",
      b,
      "--pid-file",
      "/x/pid",
      "abc",
    ];
    expect(wrap(args)).toEqual(args);
    expect(cfg(b)).toEqual({
      ociVersion: "1.0.2",
      process: { oomScoreAdj: 0, args: ["/pause"] },
      root: { path: "rootfs" },
    });
  });

  it("a zero or positive value, or none, is left as written", () => {
    for (const [name, c] of [
      ["b2", { process: { oomScoreAdj: 500 } }],
      ["b3", { process: { args: ["x"] } }],
    ] as const) {
      const b = bundle(name, c);
      const before = readFileSync(join(b, "config.json"), "utf8");
      wrap(["create", "--bundle", b, "id"]);
      expect(readFileSync(join(b, "config.json"), "utf8")).toBe(before);
    }
  });

  it("run with the bundle as the working directory; --bundle=…; exec --process", () => {
    const b = bundle("b4", { process: { oomScoreAdj: -1 } });
    wrap(["run", "id"], b);
    expect(cfg(b).process.oomScoreAdj).toBe(0);
    const b5 = bundle("b5", { process: { oomScoreAdj: -5 } });
    wrap(["create", `--bundle=${b5}`, "id"]);
    expect(cfg(b5).process.oomScoreAdj).toBe(0);
    const p = join(dir, "process.json");
    writeFileSync(p, JSON.stringify({ args: ["sh"], oomScoreAdj: -999 }));
    wrap(["exec", "--process", p, "id"]);
    expect(JSON.parse(readFileSync(p, "utf8"))).toEqual({ args: ["sh"], oomScoreAdj: 0 });
  });

  it("other commands touch no file", () => {
    const b = bundle("b6", { process: { oomScoreAdj: -998 } });
    expect(wrap(["state", "id"], b)).toEqual(["state", "id"]);
    expect(cfg(b).process.oomScoreAdj).toBe(-998);
  });
});
