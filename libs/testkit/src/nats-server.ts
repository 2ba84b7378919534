import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export interface TestNats {
  /** nats://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Stop the server (SIGTERM) and wait for it to exit. Store kept unless `wipe`. */
  stop(): Promise<void>;
  /** Start it again on the same port and store (for outage tests; binary mode only). */
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
 * A real nats-server with JetStream for one suite: random port, temporary store.
 * Prefers the `nats-server` binary (fast; supports restart); uses testcontainers' NATS module
 * when there is no binary but a container engine answers (or NATS_TEST_MODE=container).
 */
export async function startNats(opts: { config?: string } = {}): Promise<TestNats> {
  const bin = natsServerBinary();
  if (process.env.NATS_TEST_MODE !== "container" && bin) return startBinary(bin, opts.config);
  if (await containerRuntimeAvailable()) return startContainer();
  throw new Error(
    "no nats-server for tests: install it (Debian: apt-get install nats-server) or run a Docker engine for testcontainers",
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

async function startContainer(): Promise<TestNats> {
  const { NatsContainer } = await import("@testcontainers/nats");
  const c = await new NatsContainer("nats:2.10").withJetStream().start();
  const port = c.getMappedPort(4222);
  const stop = async () => {
    await c.stop();
  };
  return {
    url: `nats://test:test@${c.getHost()}:${port}`,
    port,
    mode: "container",
    stop,
    async restart() {
      throw new Error("restart is supported with the nats-server binary only");
    },
    dispose: stop,
  };
}
