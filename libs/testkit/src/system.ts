import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  connectBus,
  createBucket,
  ensureEventsStream,
  jetstream,
  type KV,
  type NatsConnection,
  openBucket,
  publishEvent,
  putJson,
  silentLogger,
} from "@switchyard/bus";
import {
  type BucketName,
  Buckets,
  EndpointRecord,
  ReplicaRecord,
  replicaKey,
  type SpecRecord,
  type YardEvent,
} from "@switchyard/contracts";
import { startNats, type TestNats } from "./nats-server.js";
import { holdPort } from "./ports.js";
import { groupsUnder, type Proc, run, startTs } from "./proc.js";
import { waitForBuckets } from "./wait.js";

/** A Switchyard service a TestSystem starts, as `services/<name>/src/main.ts`. */
export type YardService = "spec" | "provisioner" | "prober";

export interface SystemOptions {
  /** Environment of each service, over the harness's (NATS_URL, LOG_LEVEL=debug, a state dir ...). */
  env?: Partial<Record<YardService, NodeJS.ProcessEnv>>;
  /**
   * Buckets created at start, as the spec service creates them (libs/bus createBucket, the same
   * config): the suite stands in for the spec service, and for the writers of the buckets it
   * writes itself. A provisioner or prober started without the spec service waits for each
   * bucket it uses (yard-replicas, yard-endpoints, ...) until someone creates it.
   */
  buckets?: BucketName[];
  /** Create the events stream at start (a provisioner or prober waits for it). */
  eventsStream?: boolean;
  /**
   * Ports held (listened on) for the suite's life. The examples' port 8000, held, is "in use"
   * for the provisioner, which then gives each replica a free port of its own (as
   * `$YARD_REPLICA_PORT` allows), so no suite races another suite for it.
   */
  holdPorts?: number[];
  /** The NATS to run on (a TestCluster's `asTestNats()`); one startNats() server by default. */
  nats?: () => Promise<TestNats>;
}

/** Replica and endpoint records at one moment, each sorted by replica id. */
export interface Snapshot {
  replicas: ReplicaRecord[];
  endpoints: EndpointRecord[];
}

/** What the harness sets for each service; a suite's `env` goes over it. */
const SERVICE_ENV: Record<YardService, (stateDir: string) => NodeJS.ProcessEnv> = {
  spec: () => ({ YARD_SPEC_HTTP_PORT: "0" }),
  provisioner: (stateDir) => ({ YARD_STATE_DIR: stateDir, YARD_GPUS: "", YARD_TERMINATE_GRACE_MS: "5000" }),
  prober: () => ({}),
};

/**
 * A suite's Switchyard as real processes: a nats-server, the services the suite starts, the
 * `yard` CLI, and a state dir under which every replica runs. Waits are KV watches (never
 * polls), and `dispose` leaves no process behind.
 */
export class TestSystem {
  nats!: TestNats;
  nc!: NatsConnection;
  /** The provisioner's YARD_STATE_DIR: every replica's working directory is below it. */
  readonly stateDir = mkdtempSync(join(tmpdir(), "yard-system-"));
  /** Every service process started, in order (for output checks). */
  readonly procs: Proc[] = [];
  private readonly latest = new Map<YardService, Proc>();
  private readonly kvs = new Map<BucketName, KV>();
  private readonly cliOutput: string[] = [];
  private held: Server[] = [];

  constructor(private readonly opts: SystemOptions = {}) {}

  /** Start nats-server, create the stand-in buckets, then start `services` (each until ready). */
  async start(...services: YardService[]): Promise<void> {
    const held = await Promise.all((this.opts.holdPorts ?? []).map(holdPort));
    this.held = held.filter((s) => s !== null);
    this.nats = await (this.opts.nats ?? startNats)();
    this.nc = await connectBus({ url: this.nats.url, name: "test-system", logger: silentLogger });
    // Standing in for the spec service, the suite creates yard-leases too: every single writer
    // campaigns for its lease (in it) before it acts.
    const buckets = this.opts.buckets?.length ? [...this.opts.buckets, Buckets.leases] : [];
    for (const b of new Set(buckets)) this.kvs.set(b, await createBucket(this.nc, b));
    if (this.opts.eventsStream) await ensureEventsStream(this.nc);
    await Promise.all(services.map((s) => this.startService(s)));
  }

  /** Start a service process without waiting for it (e.g. to watch it wait for a bucket). */
  launch(name: YardService, env: NodeJS.ProcessEnv = {}): Proc {
    const p = startTs(`services/${name}/src/main.ts`, [], {
      NATS_URL: this.nats.url,
      LOG_LEVEL: "debug",
      ...SERVICE_ENV[name](this.stateDir),
      ...this.opts.env?.[name],
      ...env,
    });
    this.procs.push(p);
    this.latest.set(name, p);
    return p;
  }

  /** Start a service and wait for its "ready" line. */
  async startService(name: YardService, env: NodeJS.ProcessEnv = {}): Promise<Proc> {
    const p = this.launch(name, env);
    await p.waitForLine(/"msg":"ready"/, 60_000);
    return p;
  }

  /** The service's process started last. */
  service(name: YardService): Proc {
    const p = this.latest.get(name);
    if (!p) throw new Error(`no ${name} was started`);
    return p;
  }

  /** A bucket, waiting (up to `timeoutMs`) for its writer to create it. */
  async kv(bucket: BucketName, timeoutMs = 60_000): Promise<KV> {
    let kv = this.kvs.get(bucket);
    if (!kv) {
      const signal = AbortSignal.timeout(timeoutMs);
      kv = await openBucket(this.nc, bucket, { logger: silentLogger, signal });
      this.kvs.set(bucket, kv);
    }
    return kv;
  }

  /** Put a value as its writer would (JSON); resolves with the KV revision. */
  async put(bucket: BucketName, key: string, value: unknown): Promise<number> {
    return putJson(await this.kv(bucket), key, value);
  }

  async del(bucket: BucketName, key: string): Promise<void> {
    await (await this.kv(bucket)).delete(key);
  }

  putSpec(rec: SpecRecord): Promise<number> {
    return this.put(Buckets.specs, rec.name, rec);
  }

  putEndpoint(rec: EndpointRecord): Promise<number> {
    return this.put(Buckets.endpoints, replicaKey(rec.service, rec.replica_id), rec);
  }

  publish(ev: YardEvent): Promise<void> {
    return publishEvent(jetstream(this.nc), ev);
  }

  /**
   * Await a condition over replica and endpoint records, asked once both buckets' snapshots are
   * complete and after every change.
   */
  async until(done: (s: Snapshot) => boolean, what: string, timeoutMs = 90_000): Promise<Snapshot> {
    const deadline = Date.now() + timeoutMs;
    const [replicas, endpoints] = [
      await this.kv(Buckets.replicas, timeoutMs),
      await this.kv(Buckets.endpoints),
    ];
    const snapshot = (v: {
      replicas: Map<string, ReplicaRecord>;
      endpoints: Map<string, EndpointRecord>;
    }) => ({
      replicas: [...v.replicas.values()].sort((a, b) => a.id - b.id),
      endpoints: [...v.endpoints.values()].sort((a, b) => a.replica_id - b.replica_id),
    });
    const views = await waitForBuckets(
      {
        replicas: { kv: replicas, schema: ReplicaRecord },
        endpoints: { kv: endpoints, schema: EndpointRecord },
      },
      (v) => done(snapshot(v)),
      { what, timeoutMs: Math.max(deadline - Date.now(), 1), describe: (v) => describeSnapshot(snapshot(v)) },
    );
    return snapshot(views);
  }

  /** `until` over the replica records alone; resolves with them by id. */
  async waitReplicas(done: (rs: ReplicaRecord[]) => boolean, what: string, timeoutMs = 45_000) {
    return (await this.until((s) => done(s.replicas), what, timeoutMs)).replicas;
  }

  /** `yard ARGS` as a real process against this system. */
  async yard(args: string[]) {
    const r = await run("cli/src/main.ts", args, { NATS_URL: this.nats.url });
    const all = r.stdout + r.stderr;
    this.cliOutput.push(all);
    return { code: r.code, stdout: r.stdout, stderr: r.stderr, all };
  }

  /** Write a service YAML into the state dir; returns its path. */
  writeYaml(name: string, text: string): string {
    const p = join(this.stateDir, `${name}.yaml`);
    writeFileSync(p, text);
    return p;
  }

  /** Process groups of every live process under the state dir: the replicas' groups. */
  replicaGroups(): Set<number> {
    return groupsUnder(this.stateDir);
  }

  /** Every line of every service and CLI run (for "the token appears nowhere" checks). */
  allOutput(): string[] {
    return [...this.procs.flatMap((p) => p.lines), ...this.cliOutput];
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.procs].reverse().map((p) => p.stop(15_000)));
    // Nothing a test started may outlive it: kill any replica group still around.
    for (const g of this.replicaGroups()) {
      try {
        process.kill(-g, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    await this.nc?.close();
    await this.nats?.dispose();
    for (const s of this.held) s.close();
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

function describeSnapshot(s: Snapshot): string {
  const rs = s.replicas.map((r) => `${r.service}.${r.id}:${r.phase}${r.message ? `(${r.message})` : ""}`);
  const es = s.endpoints.map((e) => `${e.service}.${e.replica_id}`);
  return `replicas: ${rs.join(" ") || "none"}; endpoints: ${es.join(" ") || "none"}`;
}

/** The replicas and endpoints of one service. */
export const ofService = (s: Snapshot, service: string): Snapshot => ({
  replicas: s.replicas.filter((r) => r.service === service),
  endpoints: s.endpoints.filter((e) => e.service === service),
});

/** The replicas in `phase`. */
export const inPhase = (rs: ReplicaRecord[], phase: ReplicaRecord["phase"]) =>
  rs.filter((r) => r.phase === phase);
