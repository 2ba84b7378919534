import { once } from "node:events";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectBus, getJson, openBucket, silentLogger } from "@switchyard/bus";
import { Buckets } from "@switchyard/contracts";
import { groupAlive, type Proc, startNats, startProc } from "@switchyard/testkit";
import {
  alive,
  BUS_USERS,
  descendants,
  devPassword,
  JS_KEY_FILE,
  JS_KEY_VAR,
  NATS_CONF_PATH,
  passwordVar,
  REPLICA_GROUPS_DIR,
  SPEC_TOKEN_FILE,
} from "@switchyard/up";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";

/**
 * `pnpm start` (tools/up) as a user runs it: a real launcher process with its own nats-server,
 * the four services and three proxies, the example published with a generated token.
 */
const ENTRY = "tools/up/src/main.ts";
// Resolve *.localhost to loopback as curl does, so the printed URL is used verbatim.
const agent = new Agent({
  connect: {
    lookup: (_host, _opts, cb) => cb(null, [{ address: "127.0.0.1", family: 4 }]),
  },
});
const launcherEnv = (stateDir: string, extra: Record<string, string> = {}) => ({
  NATS_URL: "",
  YARD_STATE_DIR: stateDir,
  YARD_NATS_PORT: "0",
  YARD_PROXY_PORT: "0",
  YARD_PROXY_ADMIN_PORT: "0",
  YARD_SPEC_HTTP_PORT: "0",
  YARD_PROBE_INTERVAL_MS: "500",
  NO_COLOR: "1",
  ...extra,
});
const stateDirs: string[] = [];
const newStateDir = () => {
  const d = mkdtempSync(join(tmpdir(), "yard-up-"));
  stateDirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of stateDirs) rmSync(d, { recursive: true, force: true });
});

/**
 * After the launcher said "stopped", its last children may still be exiting (tsx's wrapper
 * follows its child); they are not ours to await, so look every 50 ms for at most 10 s.
 */
async function waitAllGone(pids: number[]): Promise<void> {
  const end = Date.now() + 10_000;
  while (Date.now() < end && pids.some(alive)) await new Promise((r) => setTimeout(r, 50));
}

/** Processes whose working directory or command line mention `dir` (replicas run under it). */
function processesUnder(dir: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map(Number)) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if ((cwd.startsWith(dir) || cmd.includes(dir)) && alive(pid)) out.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** The replicas' processes: those whose working directory is a replica dir of the run. */
function replicaProcesses(stateDir: string): number[] {
  const root = join(stateDir, "replicas");
  return processesUnder(root).filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/cwd`).startsWith(root);
    } catch {
      return false;
    }
  });
}

/** Process group of a live process (field 5 of /proc/<pid>/stat). */
function pgidOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}

/** The replica groups the run recorded (`<state>/replica-groups/<pgid>`). */
function recordedGroups(stateDir: string): number[] {
  const dir = join(stateDir, REPLICA_GROUPS_DIR);
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => /^\d+$/.test(n))
        .map(Number)
        .sort()
    : [];
}

/** Every secrets.json left under the run's replica dirs. */
function secretFiles(stateDir: string): string[] {
  const root = join(stateDir, "replicas");
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith("secrets.json"));
}

/** What a test reads off a launcher's output once the system is up. */
interface Up {
  proc: Proc;
  stateDir: string;
  token: string;
  curlUrl: string;
  natsUrl: string;
  proxyPorts: number[];
}

async function launch(
  cmd: string,
  args: string[],
  extra: Record<string, string>,
  stateDir = newStateDir(),
): Promise<Up> {
  const proc = startProc(cmd, args, { env: launcherEnv(stateDir, extra) });
  const curl = await proc.waitForLine(/curl -H "Authorization: Bearer \S+" http:\/\/\S+/, 240_000);
  const [, token, curlUrl] = /Bearer (\S+)" (http:\/\/\S+)/.exec(curl)!;
  const natsUrl = /NATS:\s+(\S+)/.exec(await proc.waitForLine(/^\s+NATS:/))![1];
  const proxyPorts = proc.lines
    .map((l) => /^\s+proxy \d+:\s+http:\/\/localhost:(\d+)/.exec(l)?.[1])
    .filter((p): p is string => Boolean(p))
    .map(Number);
  return { proc, stateDir, token, curlUrl, natsUrl, proxyPorts };
}

/** Every process the run owns: pids it reported, its process tree, replicas under its state dir. */
function owned(up: Up): number[] {
  const reported = up.proc.lines
    .map((l) => /\(pid (\d+)/.exec(l)?.[1])
    .filter(Boolean)
    .map(Number);
  return [...new Set([...reported, ...descendants(up.proc.child.pid!), ...processesUnder(up.stateDir)])];
}

const get = (url: string, token?: string) =>
  request(url, { dispatcher: agent, headers: token ? { authorization: `Bearer ${token}` } : {} });

/** The spec HTTP API as the banner shows it: its URL, its token file, the curl line's URL. */
function specApi(lines: string[]): { base: string; tokenFile: string; curlUrl: string } {
  const text = lines.join("\n");
  const [, base, tokenFile] = /spec API:\s+(http:\/\/\S+) \(bearer token in (\S+)\)/.exec(text)!;
  const curlUrl = /curl -H "Authorization: Bearer \$\(cat (\S+)\)" (http:\/\/\S+)/.exec(text)!;
  expect(curlUrl[1]).toBe(tokenFile);
  return { base, tokenFile, curlUrl: curlUrl[2] };
}

const modeOf = (path: string) => statSync(path).mode & 0o777;
const environOf = (pid: number) => readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
const cmdlineOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8");
/** Files under `dir` whose bytes contain `needle` (a store being written: gone files skipped). */
function filesHolding(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((f) => {
      try {
        return statSync(f).isFile() && readFileSync(f).includes(needle);
      } catch {
        return false;
      }
    });
}

describe("`pnpm start` with YARD_PROXIES=3 (the README's command, pnpm included)", () => {
  let up: Up;
  beforeAll(async () => {
    // A non-default spec password: nats-server and the spec service get it; no proxy may.
    up = await launch("pnpm", ["start"], { YARD_PROXIES: "3", YARD_NATS_SPEC_PASS: "spec-e2e-pass" });
  }, 300_000);
  afterAll(async () => {
    // pnpm may be gone while the launcher (in pnpm's process group) is not: signal the group.
    try {
      if (up) process.kill(-up.proc.child.pid!, "SIGTERM");
    } catch {
      // the group is empty: everything stopped
    }
    await up?.proc.stop(20_000);
  });

  it("prints a curl line whose URL answers 200 from the fake engine with the token, 401 without", async () => {
    expect(up.curlUrl).toMatch(/^http:\/\/local-auth\.localhost:\d+\/v1\/models$/);
    const ok = await get(up.curlUrl, up.token);
    expect(ok.statusCode).toBe(200);
    const models = (await ok.body.json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toContain("fake/llama-2-7b-chat");
    for (const bad of [undefined, "nope"]) {
      const res = await get(up.curlUrl, bad);
      expect(res.statusCode).toBe(401);
      await res.body.dump();
    }
  });

  it("serves the example from all three proxies", async () => {
    expect(up.proxyPorts).toHaveLength(3);
    expect(new Set(up.proxyPorts).size).toBe(3);
    for (const port of up.proxyPorts) {
      const res = await get(`http://local-auth.localhost:${port}/v1/models`, up.token);
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
  });

  it("shows the token once and in no service's log line", () => {
    expect(up.token.length).toBeGreaterThanOrEqual(40);
    expect(up.proc.lines.filter((l) => l.includes(up.token))).toHaveLength(1);
  });

  it("runs each proxy from the bundle it built before starting any service (the other services through tsx)", () => {
    const lines = up.proc.lines;
    const built = lines.findIndex((l) => /^up \| built services\/proxy\/dist\/main\.mjs \(/.test(l));
    const firstStarted = lines.findIndex((l) => /^up \| started /.test(l));
    expect(built).toBeGreaterThanOrEqual(0);
    expect(built).toBeLessThan(firstStarted);
    const argvOf = (name: string) => {
      const pid = Number(new RegExp(`started ${name} \\(pid (\\d+)`).exec(lines.join("\n"))![1]);
      return cmdlineOf(pid).split("\0").filter(Boolean);
    };
    for (const proxy of ["proxy-1", "proxy-2", "proxy-3"])
      expect(argvOf(proxy)).toEqual([process.execPath, "services/proxy/dist/main.mjs"]);
    expect(argvOf("spec")).toEqual([process.execPath, "--import", "tsx", "services/spec/src/main.ts"]);
  });

  it("runs each proxy with the proxy's NATS credentials, which are refused on yard-specs", async () => {
    const pids = up.proc.lines
      .map((l) => /started proxy-\d \(pid (\d+)/.exec(l)?.[1])
      .filter(Boolean)
      .map(Number);
    expect(pids).toHaveLength(3);
    for (const pid of pids) {
      const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      expect(env).toContain("NATS_USER=proxy");
      expect(env).toContain("NATS_PASS=proxy-dev");
      expect(env.filter((e) => e.includes("spec-e2e-pass"))).toEqual([]);
    }
    const nc = await connectBus({
      url: up.natsUrl,
      name: "as-proxy",
      user: "proxy",
      pass: "proxy-dev",
      logger: silentLogger,
    });
    try {
      await expect(openBucket(nc, Buckets.specs)).rejects.toThrow(/permissions violation/i);
      const services = await openBucket(nc, Buckets.services);
      const route = await getJson(services, "local-auth", z.object({ name: z.string() }));
      expect(route?.value.name).toBe("local-auth");
      const endpoints = await openBucket(nc, Buckets.endpoints);
      const keys: string[] = [];
      for await (const k of await endpoints.keys()) keys.push(k);
      expect(keys.some((k) => k.startsWith("local-auth."))).toBe(true);
    } finally {
      await nc.close();
    }
    // ... while the proxies route normally.
    const res = await get(up.curlUrl, up.token);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });

  it("the spec HTTP API: the token file the banner names (0600) gets 200, no or a wrong token 401; the token is never printed", async () => {
    const api = specApi(up.proc.lines);
    expect(api.tokenFile).toBe(join(up.stateDir, SPEC_TOKEN_FILE));
    expect(modeOf(api.tokenFile)).toBe(0o600);
    expect(api.curlUrl).toBe(`${api.base}/v1/services`);
    const token = readFileSync(api.tokenFile, "utf8").trim();
    const ok = await get(api.curlUrl, token);
    expect(ok.statusCode).toBe(200);
    expect(JSON.stringify(await ok.body.json())).toContain("local-auth");
    for (const bad of [undefined, `${token}x`]) {
      const res = await get(api.curlUrl, bad);
      expect(res.statusCode).toBe(401);
      await res.body.dump();
    }
    expect(up.proc.lines.filter((l) => l.includes(token))).toEqual([]);
    // The spec service gets the file's path, not the token; no other service gets either.
    for (const pid of owned(up).filter(alive)) {
      try {
        expect(cmdlineOf(pid)).not.toContain(token);
        expect(environOf(pid).filter((e) => e.includes(token))).toEqual([]);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err; // exited meanwhile
      }
    }
  });

  it("JetStream's store is encrypted: key made once (0600), in nats-server's environment only; the example's token is not on disk in the store", async () => {
    const keyFile = join(up.stateDir, JS_KEY_FILE);
    expect(modeOf(keyFile)).toBe(0o600);
    const key = readFileSync(keyFile, "utf8").trim();
    const natsPid = Number(/nats-server ready at \S+ \(pid (\d+)/.exec(up.proc.lines.join("\n"))![1]);
    expect(cmdlineOf(natsPid)).not.toContain(key);
    expect(environOf(natsPid)).toContain(`${JS_KEY_VAR}=${key}`);
    const services = up.proc.lines
      .map((l) => /started \S+ \(pid (\d+)/.exec(l)?.[1])
      .filter(Boolean)
      .map(Number);
    expect(services).toHaveLength(7); // spec, provisioner, prober, autoscaler, 3 proxies
    for (const pid of services) expect(environOf(pid).filter((e) => e.includes(key))).toEqual([]);
    expect(up.proc.lines.filter((l) => l.includes(key))).toEqual([]);
    expect(up.proc.lines.some((l) => l.includes(`encrypted with the key in ${keyFile}, made now`))).toBe(
      true,
    );
    // yard-specs holds the example's token (its AUTH_TOKEN); the store's files do not.
    expect(filesHolding(join(up.stateDir, "nats"), up.token)).toEqual([]);
  });

  it("SIGTERM to pnpm stops everything and leaves no process behind", async () => {
    const all = owned(up);
    // pnpm, sh, tsx, launcher, nats-server, 3 services, 3 proxies, at least one replica.
    expect(all.length).toBeGreaterThanOrEqual(12);
    expect(processesUnder(up.stateDir).length).toBeGreaterThan(0);
    expect(all.every(alive)).toBe(true);
    // pnpm exits at once; the launcher notices and stops everything. The output pipe closes
    // when the last process holding it (the launcher, tsx) is gone.
    const closed = once(up.proc.child.stdout!, "close");
    up.proc.child.kill("SIGTERM");
    // Bounded, so that a launcher that does not stop fails the assertions below, not the timeout.
    await Promise.race([closed, new Promise((r) => setTimeout(r, 60_000))]);
    expect(up.proc.lines).toContain("up | stopped");
    await waitAllGone(all);
    expect(all.filter(alive)).toEqual([]);
    expect(processesUnder(up.stateDir)).toEqual([]);
    // From start to shutdown (replica.terminated events included), every service's bus
    // operations were within its NATS user's permissions.
    expect(up.proc.lines.filter((l) => /permission/i.test(l))).toEqual([]);
  }, 120_000);
});

describe("the launcher with the default single proxy", () => {
  let stateDir: string;
  let first: Up;
  it("comes up, serves the example, and on Ctrl-C (SIGINT) exits 0 leaving nothing behind", async () => {
    const up = await launch(process.execPath, ["--import", "tsx", ENTRY], {});
    [stateDir, first] = [up.stateDir, up];
    try {
      expect(up.proxyPorts).toHaveLength(1);
      const res = await get(up.curlUrl, up.token);
      expect(res.statusCode).toBe(200);
      await res.body.dump();
      const all = owned(up);
      expect(all.every(alive)).toBe(true);
      up.proc.child.kill("SIGINT");
      expect(await up.proc.exited).toBe(0);
      expect(all.filter(alive)).toEqual([]);
      expect(processesUnder(up.stateDir)).toEqual([]);
    } finally {
      await up.proc.stop(20_000);
    }
  }, 300_000);

  it("started again on its state dir: the same JetStream key reads the store (the example is still listed), the same spec API token", async () => {
    const [key, token] = [JS_KEY_FILE, SPEC_TOKEN_FILE].map((f) => readFileSync(join(stateDir, f), "utf8"));
    const again = startProc(process.execPath, ["--import", "tsx", ENTRY, "--no-example"], {
      env: launcherEnv(stateDir),
    });
    try {
      await again.waitForLine(/Ctrl-C stops everything/, 120_000);
      expect(again.lines.some((l) => /encrypted with the key in \S+\)$/.test(l))).toBe(true); // not "made now"
      expect([JS_KEY_FILE, SPEC_TOKEN_FILE].map((f) => readFileSync(join(stateDir, f), "utf8"))).toEqual([
        key,
        token,
      ]);
      const api = specApi(again.lines);
      const res = await get(`${api.base}/v1/services/local-auth`, token.trim());
      expect(res.statusCode).toBe(200);
      await res.body.dump();
      expect(again.lines.filter((l) => l.includes(first.token) || l.includes(token.trim()))).toEqual([]);
      again.child.kill("SIGINT");
      expect(await again.exited).toBe(0);
    } finally {
      await again.stop(20_000);
    }
  }, 180_000);

  it("a replaced JetStream key, or a lost one, stops the start with what to do (the store is left as it is)", async () => {
    const keyFile = join(stateDir, JS_KEY_FILE);
    const store = join(stateDir, "nats");
    const start = async () => {
      const p = startProc(process.execPath, ["--import", "tsx", ENTRY, "--no-example"], {
        env: launcherEnv(stateDir),
      });
      expect(await p.exited).toBe(1);
      return p.lines.join("\n");
    };
    writeFileSync(keyFile, `k${"1".repeat(64)}\n`, { mode: 0o600 });
    expect(await start()).toContain(
      `cannot decrypt the JetStream store in ${store} with the key in ${keyFile} (the key was replaced). Put the original key file back`,
    );
    rmSync(keyFile);
    expect(await start()).toContain(
      `the JetStream store in ${store} is encrypted, but its key file ${keyFile} is gone. Put the key file back`,
    );
    expect(existsSync(keyFile)).toBe(false); // no new key over a store it cannot read
  }, 120_000);
});

describe("pnpm start with NATS_URL", () => {
  it("uses a NATS that runs deploy/nats/yard.conf instead of starting its own", async () => {
    for (const u of BUS_USERS) process.env[passwordVar(u)] = devPassword(u);
    const nats = await startNats({ config: NATS_CONF_PATH });
    const stateDir = newStateDir();
    const up = startProc(process.execPath, ["--import", "tsx", ENTRY, "--no-example"], {
      env: launcherEnv(stateDir, { NATS_URL: nats.url }),
    });
    try {
      await up.waitForLine(/Ctrl-C stops everything/, 120_000);
      expect(up.lines).toContain(`up | using the NATS at NATS_URL (${nats.url})`);
      expect(up.lines.some((l) => /starting nats-server/.test(l))).toBe(false);
      expect(up.lines.some((l) => /curl.*\/v1\/models/.test(l))).toBe(false);
      up.child.kill("SIGTERM");
      expect(await up.exited).toBe(0);
      // Not ours: it is left running.
      const nc = await connectBus({
        url: nats.url,
        name: "t",
        user: "cli",
        pass: "cli-dev",
        logger: silentLogger,
      });
      await nc.close();
    } finally {
      await up.stop(20_000);
      await nats.dispose();
    }
  }, 180_000);
});

describe("pnpm start when it cannot start", () => {
  it("says how to install nats-server when there is none", async () => {
    const up = startProc(process.execPath, ["--import", "tsx", ENTRY], {
      env: launcherEnv(newStateDir(), { NATS_SERVER_BIN: "/nonexistent/nats-server" }),
    });
    expect(await up.exited).toBe(1);
    expect(up.lines.join("\n")).toMatch(/nats-server was not found[\s\S]*apt-get install nats-server/);
  });

  it("explains when NATS_URL refuses Switchyard's users (other passwords)", async () => {
    for (const u of BUS_USERS) process.env[passwordVar(u)] = `${u}-other`;
    const nats = await startNats({ config: NATS_CONF_PATH });
    for (const u of BUS_USERS) delete process.env[passwordVar(u)];
    try {
      const up = startProc(process.execPath, ["--import", "tsx", ENTRY], {
        env: launcherEnv(newStateDir(), { NATS_URL: nats.url }),
      });
      expect(await up.exited).toBe(1);
      expect(up.lines.join("\n")).toMatch(/refuses Switchyard's user "spec"/);
    } finally {
      await nats.dispose();
    }
  });

  it("explains when NATS_URL answers without Switchyard's users", async () => {
    const plain = await startNats();
    try {
      const up = startProc(process.execPath, ["--import", "tsx", ENTRY], {
        env: launcherEnv(newStateDir(), { NATS_URL: plain.url }),
      });
      expect(await up.exited).toBe(1);
      expect(up.lines.join("\n")).toMatch(/answers at NATS_URL .* but has no users/);
    } finally {
      await plain.dispose();
    }
  });
});

describe("pnpm start supervises: a crash restarts one process, never the system", () => {
  let up: Up;
  const pidOf = (name: string) =>
    Number(
      /\(pid (\d+)/.exec(up.proc.lines.filter((l) => l.includes(name) && /\(pid \d+/.test(l)).at(-1)!)![1],
    );
  const groups = () => [...new Set(replicaProcesses(up.stateDir).map(pgidOf))].sort();

  beforeAll(async () => {
    up = await launch(process.execPath, ["--import", "tsx", ENTRY], {});
  }, 300_000);
  afterAll(async () => {
    await up?.proc.stop(20_000);
  });

  it("runs the example's engine with its key in the environment, never in argv", () => {
    const pids = replicaProcesses(up.stateDir);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toContain(up.token);
    const engine = pids.find((p) =>
      readFileSync(`/proc/${p}/cmdline`, "utf8").includes("fake-openai-engine"),
    );
    expect(engine).toBeDefined();
    expect(readFileSync(`/proc/${engine}/environ`, "utf8").split("\0")).toContain(`VLLM_API_KEY=${up.token}`);
  });

  it("kill -9 of the provisioner: the example keeps serving, the provisioner is restarted and adopts its replica (no orphan, no duplicate)", async () => {
    const before = groups();
    expect(before).toHaveLength(1);
    expect(recordedGroups(up.stateDir)).toEqual(before);
    process.kill(pidOf("started provisioner"), "SIGKILL");
    await up.proc.waitForLine(
      /^up \| provisioner exited unexpectedly \(signal SIGKILL\) .*; restarting it in/,
    );
    // Nobody to manage it, and the replica still answers through the proxy.
    const during = await get(up.curlUrl, up.token);
    expect(during.statusCode).toBe(200);
    await during.body.dump();
    await up.proc.waitForLine(/^up \| provisioner ready again \(pid \d+, restart 1\)/, 60_000);
    await up.proc.waitForLine(/"step":"adopt","key":"local-auth\.1"/);
    expect(groups()).toEqual(before);
    expect(recordedGroups(up.stateDir)).toEqual(before);
    const after = await get(up.curlUrl, up.token);
    expect(after.statusCode).toBe(200);
    await after.body.dump();
  }, 120_000);

  it("kill -9 of the proxy: restarted alone on the port the banner printed; the URL answers again", async () => {
    const others = ["spec", "provisioner", "prober", "autoscaler"].map((n) => pidOf(`started ${n}`));
    process.kill(pidOf("started proxy-1"), "SIGKILL");
    await up.proc.waitForLine(/^up \| proxy-1 exited unexpectedly \(signal SIGKILL\)/);
    await up.proc.waitForLine(/^up \| proxy-1 ready again/, 60_000);
    const res = await get(up.curlUrl, up.token);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(others.filter(alive)).toEqual(others);
    expect(up.proc.lines.filter((l) => /stopping everything/.test(l))).toEqual([]);
  }, 120_000);

  it("kill -9 of nats-server: restarted on its port with its store; the services reconnect and the control plane works again", async () => {
    const natsPid = pidOf("nats-server ready at");
    process.kill(natsPid, "SIGKILL");
    await up.proc.waitForLine(/^up \| nats-server exited unexpectedly \(signal SIGKILL\)/);
    await up.proc.waitForLine(/^up \| nats-server ready again/, 60_000);
    for (const svc of ["spec", "provisioner", "prober", "autoscaler", "proxy-1"])
      await up.proc.waitForLine(new RegExp(`^${svc}\\s*\\| .*"event":"bus.reconnected"`), 60_000);
    // JetStream state survived: the route published before the crash is still there (read as
    // the proxies read it).
    const nc = await connectBus({
      url: up.natsUrl,
      name: "t",
      user: "proxy",
      pass: "proxy-dev",
      logger: silentLogger,
    });
    try {
      const route = await getJson(
        await openBucket(nc, Buckets.services),
        "local-auth",
        z.object({ name: z.string() }),
      );
      expect(route?.value.name).toBe("local-auth");
    } finally {
      await nc.close();
    }
    // The whole loop runs over the new server: a replica that dies is replaced, probed, routed.
    const engine = replicaProcesses(up.stateDir).find((p) =>
      readFileSync(`/proc/${p}/cmdline`, "utf8").includes("fake-openai-engine"),
    )!;
    process.kill(engine, "SIGKILL");
    await up.proc.waitForLine(/"replica":1,.*"phase":"FAILED","reason":"ProcessExited"/, 60_000);
    await up.proc.waitForLine(/"op":"put","replica":"local-auth\.2"/, 90_000);
    const res = await get(up.curlUrl, up.token);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  }, 180_000);

  it("Ctrl-C: exit 0, no replica process or group left, no secrets file left", async () => {
    const pgids = groups();
    expect(pgids.length).toBeGreaterThan(0);
    expect(secretFiles(up.stateDir).length).toBeGreaterThan(0);
    const all = owned(up);
    up.proc.child.kill("SIGINT");
    expect(await up.proc.exited).toBe(0);
    await waitAllGone(all);
    expect(all.filter(alive)).toEqual([]);
    expect(pgids.filter(groupAlive)).toEqual([]);
    expect(replicaProcesses(up.stateDir)).toEqual([]);
    expect(recordedGroups(up.stateDir)).toEqual([]);
    expect(secretFiles(up.stateDir)).toEqual([]);
    expect(up.proc.lines.filter((l) => l.includes(up.token))).toHaveLength(1); // the banner's curl line
  }, 120_000);
});

describe("pnpm start stopped while its provisioner is down", () => {
  it("stops the replica groups the dead provisioner left behind", async () => {
    // A long restart delay keeps the provisioner down until the launcher stops.
    const up = await launch(process.execPath, ["--import", "tsx", ENTRY], {
      YARD_RESTART_DELAY_MS: "600000",
      YARD_RESTART_MAX_DELAY_MS: "600000",
    });
    try {
      const replicas = replicaProcesses(up.stateDir);
      const pgids = [...new Set(replicas.map(pgidOf))];
      expect(pgids).toHaveLength(1);
      const prov = Number(/started provisioner \(pid (\d+)/.exec(up.proc.lines.join("\n"))![1]);
      process.kill(prov, "SIGKILL");
      await up.proc.waitForLine(/^up \| provisioner exited unexpectedly .*restarting it in 600 s/);
      expect(pgids.filter(groupAlive)).toEqual(pgids); // orphaned, still running
      up.proc.child.kill("SIGTERM");
      expect(await up.proc.exited).toBe(0);
      expect(up.proc.lines).toContain(
        `up | stopped 1 replica process group(s) left behind (pgid ${pgids[0]})`,
      );
      expect(pgids.filter(groupAlive)).toEqual([]);
      expect(replicas.filter(alive)).toEqual([]);
    } finally {
      await up.proc.stop(20_000);
    }
  }, 300_000);
});
