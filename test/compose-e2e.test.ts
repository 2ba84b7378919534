import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import {
  dockerSkipReason,
  holdPort,
  NATS_TEST_IMAGE,
  type Proc,
  REPO_ROOT,
  startProc,
} from "@switchyard/testkit";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * docker-compose.yml as docs/deploy.md runs it, for real: the images (`pnpm images`), `up`,
 * the example published through the `cli` service, curl through the proxy (200 with the
 * token, 401 without), three proxies, then `stop` (every service exits 0 on SIGTERM) and
 * `down -v` leaving no container, volume or network. Its own compose project and host ports
 * (published on 127.0.0.1 only); traffic only to those. Skips, saying why, where no Docker
 * engine answers, Compose is missing or the images are not built.
 */
const IMAGES = ["switchyard:local", NATS_TEST_IMAGE];
const SERVICES = ["spec", "provisioner", "prober", "autoscaler", "proxy"];

/** `docker compose` (v2) where installed, else docker-compose (1.29); null with neither. */
function composeCommand(): string[] | null {
  for (const c of [["docker", "compose"], ["docker-compose"]]) {
    if (spawnSync(c[0], [...c.slice(1), "version"], { stdio: "ignore" }).status === 0) return c;
  }
  return null;
}
const compose = composeCommand();
const skip = compose
  ? await dockerSkipReason(IMAGES)
  : "neither `docker compose` nor docker-compose is installed (Debian: apt-get install docker-compose; bash .ci/run installs it)";
if (skip) console.warn(`skipping the compose e2e suite (test/compose-e2e.test.ts): ${skip}`);

const project = `yard-e2e-${process.pid}-${randomBytes(3).toString("hex")}`;
const image = `switchyard:${project}`;
const token = `tok-${randomBytes(24).toString("hex")}`;
// Resolve *.localhost to loopback as curl does: the URL is the one docs/deploy.md prints.
const agent = new Agent({
  connect: { lookup: (_host, _opts, cb) => cb(null, [{ address: "127.0.0.1", family: 4 }]) },
});
const get = (port: number, withToken: boolean) =>
  request(`http://local-auth.localhost:${port}/v1/models`, {
    dispatcher: agent,
    headers: withToken ? { authorization: `Bearer ${token}` } : {},
  });

/** `base`, `base+1`, … `base+n-1` all free a moment ago (the proxy's published range). */
async function freeRange(n: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 9_000);
    const held = [];
    for (let i = 0; i < n; i++) {
      const s = await holdPort(base + i);
      if (!s) break;
      held.push(s);
    }
    for (const s of held) await new Promise((r) => s.close(r));
    if (held.length === n) return base;
  }
}

let env: NodeJS.ProcessEnv = {};
let proxyBase = 0;
const followers: Proc[] = [];
let upDone = false;

/** A compose command on this suite's project; resolves with its exit code and output. */
async function dc(
  args: string[],
  extra: NodeJS.ProcessEnv = {},
): Promise<{ code: number | string; out: string }> {
  const p = startProc(
    compose![0],
    [...compose!.slice(1), "-f", join(REPO_ROOT, "docker-compose.yml"), "-p", project, ...args],
    {
      env: { ...env, ...extra },
    },
  );
  const code = await p.exited;
  return { code, out: p.lines.join("\n") };
}

/** Follows the services' logs (from their start) until each instance named logged "ready". */
async function waitReady(instances: { service: string; index: number }[]): Promise<void> {
  const logs = startProc(
    compose![0],
    [
      ...compose!.slice(1),
      "-f",
      join(REPO_ROOT, "docker-compose.yml"),
      "-p",
      project,
      "logs",
      "-f",
      "--no-color",
      ...new Set(instances.map((i) => i.service)),
    ],
    { env },
  );
  followers.push(logs);
  // A loaded CI machine starts six Node services at once (tsx compiles each at start).
  await Promise.all(
    instances.map((i) =>
      logs.waitForLine(new RegExp(`^${i.service}[-_]${i.index}\\s+\\|.*"msg":"ready"`), 300_000),
    ),
  );
  await logs.stop();
}

const projectLeft = (kind: "container" | "volume" | "network") => {
  const args = kind === "container" ? ["ps", "-aq"] : [kind, "ls", "-q"];
  const r = spawnSync("docker", [...args, "--filter", `label=com.docker.compose.project=${project}`], {
    encoding: "utf8",
  });
  return r.stdout.split("\n").filter(Boolean);
};

describe.skipIf(skip)(`docker-compose.yml for real (${compose?.join(" ")})`, () => {
  beforeAll(async () => {
    // Rebuilds only what changed since the last build (each image's input hash), else a no-op.
    const images = startProc("bash", [join(REPO_ROOT, "tools/images/build.sh")]);
    const built = await images.exited;
    if (built !== 0) throw new Error(`pnpm images failed:\n${images.lines.slice(-20).join("\n")}`);
    // This run's own tag of the image: a rebuild of switchyard:local meanwhile (another clone's
    // `pnpm images`) must not make `up --scale` recreate this project's containers.
    expect(spawnSync("docker", ["tag", "switchyard:local", image]).status).toBe(0);
    proxyBase = await freeRange(3);
    const [natsPort, specPort] = [await freeRange(1), await freeRange(1)];
    env = {
      YARD_COMPOSE_IMAGE: image,
      YARD_COMPOSE_NATS_PORT: String(natsPort),
      YARD_COMPOSE_SPEC_PORT: String(specPort),
      YARD_COMPOSE_PROXY_ADDRESS: "127.0.0.1",
      YARD_COMPOSE_PROXY_PORTS: `${proxyBase}-${proxyBase + 2}`,
      // Passwords of this run, not the "<user>-dev" defaults, made as docs/deploy.md's .env
      // makes them (a letter first: nats-server would read "2f9c…" as a number).
      ...Object.fromEntries(
        ["SPEC", "PROVISIONER", "PROBER", "PROXY", "AUTOSCALER", "CLI"].map((u) => [
          `YARD_NATS_${u}_PASS`,
          `p${randomBytes(12).toString("hex")}`,
        ]),
      ),
    };
    upDone = true; // even a failed `up` may have made containers, volumes and networks
    const up = await dc(["up", "-d", "--no-build"]);
    if (up.code !== 0) throw new Error(`compose up failed:\n${up.out}`);
    await waitReady(SERVICES.map((service) => ({ service, index: 1 })));
  }, 1_200_000);

  afterAll(async () => {
    for (const f of followers) await f.stop();
    // A failed run still leaves nothing behind.
    const left = () =>
      projectLeft("container").length + projectLeft("volume").length + projectLeft("network").length;
    if (upDone && left() > 0) {
      await dc(["down", "-v", "--remove-orphans", "-t", "5"]);
    }
    spawnSync("docker", ["rmi", image], { stdio: "ignore" }); // the tag only; the layers stay
    await agent.close();
  }, 120_000);

  it("publishes the example through the cli service (the token from the environment, not argv) and it becomes READY", async () => {
    const r = await dc(
      [
        "run",
        "--rm",
        "-e",
        "AUTH_TOKEN",
        "cli",
        "yard",
        "up",
        "examples/local-auth.yaml",
        "--env",
        "AUTH_TOKEN",
        "--wait",
      ],
      { AUTH_TOKEN: token },
    );
    expect(r.out).toMatch(/Service local-auth is READY: replica 1 at http:\/\/provisioner:\d+/);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain(token);
  }, 600_000);

  it("the proxy on its 127.0.0.1 port answers 200 with the token (the fake engine's model list), 401 without", async () => {
    const ok = await get(proxyBase, true);
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.json()).toMatchObject({ data: [{ id: "fake/llama-2-7b-chat" }] });
    const denied = await get(proxyBase, false);
    expect(denied.statusCode).toBe(401);
    await denied.body.dump();
  });

  it("scaled to 3 proxies, each answers on its own port of the range", async () => {
    const r = await dc(["up", "-d", "--no-build", "--scale", "proxy=3"]);
    expect(r.code, r.out).toBe(0);
    await waitReady([1, 2, 3].map((index) => ({ service: "proxy", index })));
    const ports: number[] = [];
    for (const index of [1, 2, 3]) {
      const p = await dc(["port", "--index", String(index), "proxy", "8080"]);
      ports.push(Number(/^127\.0\.0\.1:(\d+)$/m.exec(p.out)?.[1]));
    }
    expect(ports.sort()).toEqual([proxyBase, proxyBase + 1, proxyBase + 2]);
    for (const port of ports) {
      const res = await get(port, true);
      expect(res.statusCode, `proxy on ${port}`).toBe(200);
      await res.body.dump();
    }
  }, 600_000);

  it("the token is in no service's log", async () => {
    const r = await dc(["logs", "--no-color"]);
    expect(r.out).toMatch(/spec[-_]1\s+\|.*spec published/);
    expect(r.out).not.toContain(token);
  });

  it("stop: every service exits 0 on SIGTERM; down -v leaves no container, volume or network", async () => {
    const stop = await dc(["stop", "-t", "30"]);
    expect(stop.code, stop.out).toBe(0);
    const exits = spawnSync(
      "docker",
      [
        "ps",
        "-a",
        "--filter",
        `label=com.docker.compose.project=${project}`,
        "--format",
        "{{.Names}} {{.Status}}",
      ],
      { encoding: "utf8" },
    )
      .stdout.split("\n")
      .filter(Boolean);
    expect(exits).toHaveLength(SERVICES.length + 1 + 2); // nats, the services, two more proxies
    for (const line of exits) expect(line).toMatch(/ Exited \(0\)/);
    const down = await dc(["down", "-v"]);
    expect(down.code, down.out).toBe(0);
    expect(projectLeft("container")).toEqual([]);
    expect(projectLeft("volume")).toEqual([]);
    expect(projectLeft("network")).toEqual([]);
  }, 300_000);
});
