import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { freePort } from "./ports.js";

/**
 * The image of container mode: the one docker-compose.yml runs. Without a registry,
 * `pnpm images` builds a stand-in under this name (tools/images). NATS_TEST_IMAGE overrides it.
 */
export const NATS_TEST_IMAGE = process.env.NATS_TEST_IMAGE ?? "nats:2.10-alpine";

export interface TestNats {
  /** nats://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Stop the server (SIGTERM) and wait for it to exit. Store kept unless `wipe`. */
  stop(): Promise<void>;
  /** Start it again on the same port and store (for outage tests). */
  restart(): Promise<void>;
  /** Stop and remove the store. */
  dispose(): Promise<void>;
  mode: "binary" | "container";
}

export function natsServerBinary(): string | null {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN;
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/bin", "/usr/bin"];
  for (const d of dirs) if (d && existsSync(join(d, "nats-server"))) return join(d, "nats-server");
  return null;
}

/** True when a Docker-compatible engine answers on its socket (testcontainers can run). */
export async function containerRuntimeAvailable(timeoutMs = 500): Promise<boolean> {
  const host = process.env.DOCKER_HOST;
  let target: { path: string } | { host: string; port: number } | null = null;
  if (host?.startsWith("unix://")) target = { path: host.slice(7) };
  else if (host?.startsWith("tcp://")) {
    const u = new URL(host.replace(/^tcp:/, "http:"));
    target = { host: u.hostname, port: Number(u.port || 2375) };
  } else if (!host && existsSync("/var/run/docker.sock")) target = { path: "/var/run/docker.sock" };
  if (!target) return false;
  const t = target;
  return new Promise((resolve) => {
    const s = netConnect(t as never);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(timer);
      s.end();
      resolve(true);
    });
    s.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/**
 * Why a suite that needs Docker cannot run here, and how to run it; null when a Docker engine
 * answers and holds every image in `images` (nothing is pulled: no registry is assumed).
 */
export async function dockerSkipReason(images: string[]): Promise<string | null> {
  if (!(await containerRuntimeAvailable())) {
    return "no Docker engine answers (/var/run/docker.sock or DOCKER_HOST): start dockerd, then `pnpm images` (bash .ci/run does both)";
  }
  const { getContainerRuntimeClient, ImageName } = await import("testcontainers");
  const client = await getContainerRuntimeClient();
  const missing: string[] = [];
  for (const image of images)
    if (!(await client.image.exists(ImageName.fromString(image)))) missing.push(image);
  return missing.length > 0
    ? `the Docker engine lacks ${missing.join(", ")}: build them with \`pnpm images\``
    : null;
}

/**
 * A real nats-server with JetStream for one suite: random port, temporary store, the same in
 * both modes (no users unless `config` has them; clients on 127.0.0.1 only).
 * Prefers the `nats-server` binary (fast); uses a testcontainers container of NATS_TEST_IMAGE
 * when there is no binary but a container engine answers (or NATS_TEST_MODE=container).
 */
export async function startNats(opts: { config?: string } = {}): Promise<TestNats> {
  const bin = natsServerBinary();
  if (process.env.NATS_TEST_MODE !== "container" && bin) return startBinary(bin, opts.config);
  if (await containerRuntimeAvailable()) return startContainer(opts.config);
  throw new Error(
    "no nats-server for tests: install it (Debian: apt-get install nats-server) or run a Docker engine for testcontainers (images: pnpm images)",
  );
}

async function startBinary(bin: string, config?: string): Promise<TestNats> {
  const store = mkdtempSync(join(tmpdir(), "yard-nats-"));
  let port = 0;
  let child: ChildProcess;
  const launch = (p: number) =>
    new Promise<number>((resolve, reject) => {
      const args = ["-js", "-a", "127.0.0.1", "-p", String(p), "-sd", store];
      if (config) args.unshift("-c", config);
      child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
      let buf = "";
      let bound = 0;
      child.stderr!.on("data", (d: Buffer) => {
        buf += d.toString();
        const m = /Listening for client connections on [^\s]+:(\d+)/.exec(buf);
        if (m) bound = Number(m[1]);
        if (bound && /Server is ready/.test(buf)) {
          child.stderr!.removeAllListeners("data");
          child.stderr!.resume();
          resolve(bound);
        }
      });
      child.once("exit", (code) => reject(new Error(`nats-server exited (${code}): ${buf.slice(-500)}`)));
    });
  port = await launch(-1);
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    mode: "binary",
    stop,
    async restart() {
      await stop();
      await launch(port);
    },
    async dispose() {
      await stop();
      rmSync(store, { recursive: true, force: true });
    },
  };
}

/**
 * The container mode: host networking (tests talk to loopback only, never to a bridge address),
 * the server bound to 127.0.0.1 on a port picked here, so a restart of the container comes back
 * on that port with its store (in the container, removed with it). A config file's directory is
 * mounted read-only at the same path, and the variables it reads ($NAME) are passed on.
 */
async function startContainer(config?: string): Promise<TestNats> {
  const { GenericContainer, getContainerRuntimeClient, ImageName, Wait } = await import("testcontainers");
  const client = await getContainerRuntimeClient();
  if (!(await client.image.exists(ImageName.fromString(NATS_TEST_IMAGE)))) {
    // Without a registry a pull would hang until it times out: say what to do instead.
    throw new Error(
      `the ${NATS_TEST_IMAGE} image is not on this Docker engine: build it with \`pnpm images\``,
    );
  }
  const { REAPER_IMAGE } = await import("testcontainers/build/reaper/reaper.js");
  if (
    process.env.TESTCONTAINERS_RYUK_DISABLED === undefined &&
    !(await client.image.exists(ImageName.fromString(REAPER_IMAGE)))
  ) {
    // No Ryuk image (no registry): the container is removed by dispose(), as in binary mode.
    process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
  }
  const port = await freePort();
  const args = ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", "/data"];
  let spec = new GenericContainer(NATS_TEST_IMAGE)
    .withNetworkMode("host")
    .withLabels({ "org.switchyard.testkit": "nats" })
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .withStartupTimeout(60_000);
  if (config) {
    const path = resolve(config);
    const env: Record<string, string> = {};
    for (const [, name] of readFileSync(path, "utf8").matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) {
      const v = process.env[name];
      if (v !== undefined) env[name] = v;
    }
    spec = spec
      .withBindMounts([{ source: dirname(path), target: dirname(path), mode: "ro" }])
      .withEnvironment(env)
      .withCommand(["-c", path, ...args]);
  } else spec = spec.withCommand(args);
  const started = await spec.start();
  const handle = client.container.getById(started.getId());
  let running = true;
  let removed = false;
  const stop = async () => {
    if (!running) return;
    await client.container.stop(handle, { timeout: 10_000 });
    running = false;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    mode: "container",
    stop,
    async restart() {
      await stop();
      // Docker starts a stopped container on restart; testcontainers waits for its new log line.
      await started.restart();
      running = true;
    },
    async dispose() {
      if (removed) return;
      await stop();
      await client.container.remove(handle, { removeVolumes: true });
      removed = true;
    },
  };
}
