import { describe, expect, it } from "vitest";
import { DEFAULT_CACHE, DEFAULT_STATE, parseOptions } from "./options.js";

const ok = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = parseOptions(argv, env);
  if (!r.ok) throw new Error(r.error);
  return r.options;
};
const err = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = parseOptions(argv, env);
  if (r.ok) throw new Error("expected an error");
  return r.error;
};

describe("pnpm cluster options", () => {
  it("defaults: cache and state outside the clone, loopback ports, no GPUs", () => {
    expect(ok(["up"])).toMatchObject({
      command: "up",
      cacheDir: DEFAULT_CACHE,
      stateDir: DEFAULT_STATE,
      apiPort: 6443,
      etcdPort: 23790,
      gpus: 0,
      timeoutMs: 180_000,
      quiet: false,
    });
  });

  it("env and flags", () => {
    const o = ok(["status", "--quiet"], {
      YARD_CLUSTER_CACHE: "/tmp/c/",
      YARD_CLUSTER_STATE: "/tmp/s",
      YARD_CLUSTER_API_PORT: "7443",
      YARD_CLUSTER_GPUS: "2",
    });
    expect(o).toMatchObject({
      command: "status",
      cacheDir: "/tmp/c",
      stateDir: "/tmp/s",
      apiPort: 7443,
      gpus: 2,
      quiet: true,
    });
    expect(ok(["up", "--gpus", "4"], { YARD_CLUSTER_GPUS: "2" }).gpus).toBe(4);
    expect(ok(["up", "--gpus=1"]).gpus).toBe(1);
  });

  it.each([
    [[], {}, /Usage/],
    [["start"], {}, /unknown command start/],
    [["up", "--force"], {}, /unknown option --force/],
    [["up", "down"], {}, /unexpected argument down/],
    [["up", "--gpus"], {}, /--gpus needs a number/],
    [["up", "--gpus", "-1"], {}, /--gpus \/ YARD_CLUSTER_GPUS must be an integer from 0 to 64/],
    [["up"], { YARD_CLUSTER_GPUS: "1.5" }, /YARD_CLUSTER_GPUS must be an integer/],
    [["up"], { YARD_CLUSTER_STATE: "relative/dir" }, /YARD_CLUSTER_STATE must be an absolute path/],
    [["up"], { YARD_CLUSTER_CACHE: "/" }, /YARD_CLUSTER_CACHE must not be \//],
    [["up"], { YARD_CLUSTER_API_PORT: "70000" }, /YARD_CLUSTER_API_PORT must be an integer from 1 to 65535/],
    [["up"], { YARD_CLUSTER_API_PORT: "23800" }, /must differ from etcd's ports/],
  ])("%j %j → a clear error", (argv, env, re) => {
    expect(err(argv as string[], env as NodeJS.ProcessEnv)).toMatch(re);
  });

  it("--help prints the usage", () => {
    expect(ok(["--help"]).help).toBe(true);
    expect(ok(["up", "-h"])).toMatchObject({ command: "up", help: true });
  });
});
