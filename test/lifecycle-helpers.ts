import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectBus, type KV, openBucket, silentLogger, watchBucket } from "@switchyard/bus";
import { Buckets, EndpointRecord, ReplicaRecord } from "@switchyard/contracts";
import { type Proc, run, startNats, startTs, type TestNats } from "@switchyard/testkit";

/** The token of the acceptance list; it must appear in no service's output. */
export const TOKEN = "s3cret";

export interface Snapshot {
  replicas: ReplicaRecord[];
  endpoints: EndpointRecord[];
}

/**
 * The whole issue-3 system as real processes: nats-server, spec service, provisioner (local
 * backend, YARD_GPUS=L4:1, its own state dir) and prober, plus the `yard` CLI.
 */
/** The prober's interval in these suites (SkyServe probes every 10 s). */
export const PROBE_INTERVAL_MS = 500;

export class System {
  nats!: TestNats;
  nc!: NatsConnection;
  replicasKv!: KV;
  endpointsKv!: KV;
  stateDir = mkdtempSync(join(tmpdir(), "yard-e2e-"));
  /** Every process started, for the final token check. */
  procs: Proc[] = [];
  cliOutput: string[] = [];
  provisioner!: Proc;
  prober!: Proc;
  private held: Server | null = null;

  async start(): Promise<void> {
    // Other suites run at the same time and use the examples' port 8000 too. Held here, it is
    // "in use" for the provisioner, which then gives each replica a free port of its own (as
    // local-auth.yaml's $YARD_REPLICA_PORT allows), so no suite races another for it.
    this.held = await holdPort(8000);
    this.nats = await startNats();
    this.nc = await connectBus({ url: this.nats.url, name: "e2e", logger: silentLogger });
    const spec = this.service("services/spec/src/main.ts", { YARD_SPEC_HTTP_PORT: "0" });
    await Promise.all([spec, this.startProvisioner(), this.startProber()]);
    this.replicasKv = await openBucket(this.nc, Buckets.replicas);
    this.endpointsKv = await openBucket(this.nc, Buckets.endpoints);
  }

  private async service(entry: string, env: Record<string, string>): Promise<Proc> {
    const p = startTs(entry, [], { NATS_URL: this.nats.url, LOG_LEVEL: "debug", ...env });
    this.procs.push(p);
    await p.waitForLine(/"msg":"ready"/, 60_000);
    return p;
  }

  async startProvisioner(): Promise<Proc> {
    this.provisioner = await this.service("services/provisioner/src/main.ts", {
      YARD_STATE_DIR: this.stateDir,
      YARD_GPUS: "L4:1",
      YARD_HOST_ADDRESS: "127.0.0.1",
      YARD_TERMINATE_GRACE_MS: "3000",
    });
    return this.provisioner;
  }

  async startProber(): Promise<Proc> {
    this.prober = await this.service("services/prober/src/main.ts", {
      YARD_PROBE_INTERVAL_MS: String(PROBE_INTERVAL_MS),
    });
    return this.prober;
  }

  /** `yard ARGS` as a real process. */
  async yard(args: string[]) {
    const r = await run("cli/src/main.ts", args, { NATS_URL: this.nats.url });
    const all = r.stdout + r.stderr;
    this.cliOutput.push(all);
    return { code: r.code, all };
  }

  /** A service YAML in the state dir's parent temp space. */
  writeYaml(name: string, text: string): string {
    const p = join(this.stateDir, `${name}.yaml`);
    writeFileSync(p, text);
    return p;
  }

  /**
   * Await a condition over both buckets, checked once both snapshots are complete and after
   * every change (never on a partial snapshot).
   */
  until(done: (s: Snapshot) => boolean, what: string, timeoutMs = 90_000): Promise<Snapshot> {
    const replicas = new Map<string, ReplicaRecord>();
    const endpoints = new Map<string, EndpointRecord>();
    const snap = (): Snapshot => ({
      replicas: [...replicas.values()].sort((a, b) => a.id - b.id),
      endpoints: [...endpoints.values()].sort((a, b) => a.replica_id - b.replica_id),
    });
    return new Promise((resolve, reject) => {
      let ready = 0;
      let settled = false;
      const check = () => {
        if (ready < 2 || settled || !done(snap())) return;
        settled = true;
        clearTimeout(timer);
        for (const w of watches) w.stop();
        resolve(snap());
      };
      const track =
        <T>(m: Map<string, T>) =>
        (c: { op: "put"; key: string; value: T } | { op: "del"; key: string }) => {
          if (c.op === "put") m.set(c.key, c.value);
          else m.delete(c.key);
          check();
        };
      const watches = [
        watchBucket(this.replicasKv, ReplicaRecord, track(replicas), silentLogger),
        watchBucket(this.endpointsKv, EndpointRecord, track(endpoints), silentLogger),
      ];
      for (const w of watches)
        void w.ready.then(() => {
          ready++;
          check();
        });
      const timer = setTimeout(() => {
        settled = true;
        for (const w of watches) w.stop();
        const s = snap();
        const rs = s.replicas.map((r) => `${r.service}.${r.id}:${r.phase}`).join(" ");
        const es = s.endpoints.map((e) => `${e.service}.${e.replica_id}`).join(" ");
        reject(
          new Error(`timed out waiting for ${what}; replicas: ${rs || "none"}; endpoints: ${es || "none"}`),
        );
      }, timeoutMs);
    });
  }

  /** Process groups of every live process whose cwd is under the state dir (the replicas' groups). */
  replicaGroups(): Set<number> {
    const groups = new Set<number>();
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        if (!readlinkSync(`/proc/${name}/cwd`).startsWith(this.stateDir)) continue;
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (f[0] !== "Z") groups.add(Number(f[2]));
      } catch {
        // The process ended while we looked.
      }
    }
    return groups;
  }

  allOutput(): string[] {
    return [...this.procs.flatMap((p) => p.lines), ...this.cliOutput];
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.procs].reverse().map((p) => p.stop(5_000)));
    await this.nc?.close();
    await this.nats?.dispose();
    this.held?.close();
  }
}

/** Listen on a port on all addresses; null when something else has it already. */
function holdPort(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(null));
    srv.listen({ port }, () => resolve(srv));
  });
}

/** Replicas and endpoints of one service. */
export const of = (s: Snapshot, service: string) => ({
  replicas: s.replicas.filter((r) => r.service === service),
  endpoints: s.endpoints.filter((e) => e.service === service),
});

/** local-auth.yaml with changes: another name, replica count, probe, accelerators. */
export function localAuth(o: {
  replicas?: number;
  headers?: boolean;
  delay?: number;
  accelerators?: string;
}) {
  const text = readFileSync(new URL("../examples/local-auth.yaml", import.meta.url), "utf8");
  let out = text.replace(/replicas: 1/, `replicas: ${o.replicas ?? 1}`);
  if (o.headers === false) out = out.replace(/ {4}headers:\n {6}Authorization: Bearer \$AUTH_TOKEN\n/, "");
  if (o.delay !== undefined)
    out = out.replace(/initial_delay_seconds: 60/, `initial_delay_seconds: ${o.delay}`);
  if (o.accelerators) out = out.replace(/resources:\n/, `resources:\n  accelerators: ${o.accelerators}\n`);
  return out;
}
