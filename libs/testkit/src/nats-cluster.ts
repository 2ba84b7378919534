import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { natsServerBinary, type TestNats } from "./nats-server.js";
import { freePort } from "./ports.js";

/** One nats-server of a TestCluster. */
export interface ClusterNode {
  /** Its server_name (`-n`): `yard-1`, `yard-2`, … */
  name: string;
  /** nats://127.0.0.1:PORT (clients). */
  url: string;
  port: number;
  /** Its route port (other nodes connect there). */
  clusterPort: number;
  /** http://127.0.0.1:PORT of its monitoring endpoints (/jsz, /healthz, …). */
  monitor: string;
  /** GET a monitoring endpoint (`/jsz?…`) as JSON. */
  monitorJson<T = Record<string, unknown>>(path: string): Promise<T>;
  pid(): number | undefined;
  alive(): boolean;
  /** SIGKILL: no goodbye to the cluster, the store as a crash leaves it. */
  kill(): Promise<void>;
  /** Start it again on the same ports and store; resolves once it serves (not yet caught up). */
  restart(): Promise<void>;
}

export interface ClusterOptions {
  /** Nodes (3 by default). */
  size?: number;
  /** A config file every node loads (`-c`), e.g. one with users; its `$VAR`s come from `env`. */
  config?: string;
  env?: NodeJS.ProcessEnv;
  /** The cluster's name (`--cluster_name`). */
  clusterName?: string;
}

/**
 * A real NATS cluster for one suite: `size` nats-server processes on loopback with routes to
 * each other and clustered JetStream (each its own temporary store), fixed ports so a node
 * restarts where the clients look for it. `url` lists every node, as NATS_URL does.
 */
export class TestCluster {
  readonly nodes: ClusterNode[] = [];
  private readonly root = mkdtempSync(join(tmpdir(), "yard-nats-cluster-"));

  private constructor(private readonly o: Required<Omit<ClusterOptions, "config">> & { config?: string }) {}

  static async start(opts: ClusterOptions = {}): Promise<TestCluster> {
    const bin = natsServerBinary();
    if (!bin) throw new Error("no nats-server binary: install it (Debian: apt-get install nats-server)");
    const c = new TestCluster({ size: 3, env: {}, clusterName: "yard", ...opts });
    const n = c.o.size;
    const ports = await distinctPorts(n * 3);
    const routes = ports.slice(n, 2 * n).map((p) => `nats://127.0.0.1:${p}`);
    for (let i = 0; i < n; i++)
      c.nodes.push(c.node(bin, i, ports[i], ports[n + i], ports[2 * n + i], routes));
    try {
      await Promise.all(c.nodes.map((n) => n.restart()));
    } catch (err) {
      await c.dispose();
      throw err;
    }
    return c;
  }

  /** Every node's client URL, comma-separated (NATS_URL's form for a cluster). */
  get url(): string {
    return this.nodes.map((n) => n.url).join(",");
  }

  /** The node whose client port is `port` (the one a connection's `info.port` names). */
  byPort(port: number | undefined): ClusterNode {
    const n = this.nodes.find((x) => x.port === port);
    if (!n) throw new Error(`no node of this cluster listens on ${port}`);
    return n;
  }

  /** The node whose server_name is `name`. */
  byName(name: string | undefined): ClusterNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node of this cluster is named ${name}`);
    return n;
  }

  /**
   * The cluster as a TestNats, for a TestSystem: `url` lists every node; stop/restart/dispose
   * act on all of them.
   */
  asTestNats(): TestNats {
    return {
      url: this.url,
      port: this.nodes[0].port,
      mode: "binary",
      stop: async () => {
        await Promise.all(this.nodes.map((n) => n.kill()));
      },
      restart: async () => {
        await Promise.all(this.nodes.map((n) => (n.alive() ? undefined : n.restart())));
      },
      dispose: () => this.dispose(),
    };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    rmSync(this.root, { recursive: true, force: true });
  }

  /**
   * The JetStream meta leader's server_name, as a live node's /jsz reports it, once one is
   * elected (waits up to `timeoutMs`).
   */
  async metaLeader(timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const n of this.nodes.filter((x) => x.alive())) {
        const jsz = await n.monitorJson<{ meta_cluster?: { leader?: string } }>("/jsz").catch(() => null);
        const leader = jsz?.meta_cluster?.leader;
        if (leader && this.nodes.some((x) => x.name === leader && x.alive())) return leader;
      }
      if (Date.now() > deadline) throw new Error("no JetStream meta leader elected");
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Resolves once every live node's /healthz says ok: JetStream is up there and each stream and
   * consumer it holds is current (a restarted node has caught up).
   */
  async healthy(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const n of this.nodes.filter((x) => x.alive())) {
      for (;;) {
        const ok = await fetch(`${n.monitor}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) break;
        if (Date.now() > deadline) throw new Error(`${n.name} never became healthy`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private node(
    bin: string,
    i: number,
    port: number,
    clusterPort: number,
    monitorPort: number,
    routes: string[],
  ): ClusterNode {
    const name = `yard-${i + 1}`;
    const store = join(this.root, name);
    let child: ChildProcess | null = null;
    const args = [
      ...(this.o.config ? ["-c", this.o.config] : []),
      "-js",
      "-n",
      name,
      "-a",
      "127.0.0.1",
      "-p",
      String(port),
      "-sd",
      store,
      "-m",
      String(monitorPort),
      "--cluster_name",
      this.o.clusterName,
      "--cluster",
      `nats://127.0.0.1:${clusterPort}`,
      "--routes",
      routes.join(","),
    ];
    const alive = () => child !== null && child.exitCode === null && child.signalCode === null;
    return {
      name,
      url: `nats://127.0.0.1:${port}`,
      port,
      clusterPort,
      monitor: `http://127.0.0.1:${monitorPort}`,
      async monitorJson<T>(path: string) {
        const r = await fetch(`http://127.0.0.1:${monitorPort}${path}`);
        if (!r.ok) throw new Error(`${name} ${path}: HTTP ${r.status}`);
        return (await r.json()) as T;
      },
      pid: () => child?.pid,
      alive,
      kill: () =>
        new Promise<void>((resolve) => {
          if (!child || !alive()) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
      restart: () =>
        new Promise<void>((resolve, reject) => {
          if (alive()) return reject(new Error(`${name} is running`));
          const c = spawn(bin, args, {
            stdio: ["ignore", "ignore", "pipe"],
            env: { ...process.env, ...this.o.env },
          });
          child = c;
          let buf = "";
          c.stderr!.on("data", (d: Buffer) => {
            buf += d.toString();
            if (/Server is ready/.test(buf)) {
              c.stderr!.removeAllListeners("data");
              c.stderr!.resume();
              resolve();
            }
          });
          c.once("exit", (code, sig) =>
            reject(new Error(`nats-server ${name} exited (${code ?? sig}): ${buf.slice(-800)}`)),
          );
        }),
    };
  }
}

/** `n` free ports, all different. */
async function distinctPorts(n: number): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < n) out.add(await freePort());
  return [...out];
}
