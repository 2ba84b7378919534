import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  createBucket,
  ensureEventsStream,
  type KV,
  openBucket,
  publishEvent,
  silentLogger,
  watchBucket,
} from "@switchyard/bus";
import { Buckets, ReplicaRecord, type SpecRecord, type YardEvent } from "@switchyard/contracts";
import { type Proc, startNats, startTs, type TestNats } from "@switchyard/testkit";
import { groupRunning } from "../src/proc-info.js";

export const TOKEN = "tok-9c1e5b7a-never-log-me";

/** The fake engine on the provisioner-chosen port, with the spec's token (as local-auth.yaml). */
export const ENGINE_RUN =
  'echo "cvd=[$CUDA_VISIBLE_DEVICES] id=$YARD_REPLICA_ID"\n' +
  "exec fake-openai-engine --host 127.0.0.1 --port $YARD_REPLICA_PORT --api-key $AUTH_TOKEN";

/**
 * A spec port for a test: outside the kernel's ephemeral range (32768+) and unlikely to be
 * taken, so no other process grabs it between the provisioner's check and the engine's bind.
 * (If it is taken, the provisioner picks another port anyway.)
 */
export function specPort(): number {
  return 20_000 + Math.floor(Math.random() * 10_000);
}

/** One suite's world: a nats-server, the buckets the spec service and prober would create, a state dir. */
export class World {
  nats!: TestNats;
  nc!: NatsConnection;
  specs!: KV;
  endpoints!: KV;
  replicas!: KV;
  stateDir = mkdtempSync(join(tmpdir(), "yard-prov-"));
  procs: Proc[] = [];

  async start(): Promise<void> {
    this.nats = await startNats();
    this.nc = await connect({ servers: this.nats.url });
    this.specs = await createBucket(this.nc, Buckets.specs);
    this.endpoints = await createBucket(this.nc, Buckets.endpoints);
    await ensureEventsStream(this.nc);
  }

  /** Start a provisioner and wait for its ready line. */
  async provisioner(env: Record<string, string> = {}): Promise<Proc> {
    const p = startTs("services/provisioner/src/main.ts", [], {
      NATS_URL: this.nats.url,
      YARD_STATE_DIR: this.stateDir,
      YARD_GPUS: "",
      YARD_TERMINATE_GRACE_MS: "5000",
      ...env,
    });
    this.procs.push(p);
    await p.waitForLine(/"msg":"ready"/, 60_000);
    this.replicas ??= await openBucket(this.nc, Buckets.replicas, { logger: silentLogger });
    return p;
  }

  putSpec(rec: SpecRecord): Promise<number> {
    return this.specs.put(rec.name, JSON.stringify(rec));
  }

  publish(ev: YardEvent): Promise<void> {
    return publishEvent(jetstream(this.nc), ev);
  }

  /**
   * Await replica records through a KV watch until `done` holds for the whole bucket (checked
   * only once the snapshot is complete, then on every change); resolves with them by id.
   */
  waitReplicas(
    done: (rs: ReplicaRecord[]) => boolean,
    what: string,
    timeoutMs = 45_000,
  ): Promise<ReplicaRecord[]> {
    const state = new Map<string, ReplicaRecord>();
    const sorted = () => [...state.values()].sort((a, b) => a.id - b.id);
    return new Promise((resolve, reject) => {
      let ready = false;
      let settled = false;
      const check = () => {
        if (!ready || settled || !done(sorted())) return;
        settled = true;
        clearTimeout(timer);
        watch.stop();
        resolve(sorted());
      };
      const watch = watchBucket(
        this.replicas,
        ReplicaRecord,
        (c) => {
          if (c.op === "put") state.set(c.key, c.value);
          else state.delete(c.key);
          check();
        },
        silentLogger,
      );
      void watch.ready.then(() => {
        ready = true;
        check();
      });
      const timer = setTimeout(() => {
        settled = true;
        watch.stop();
        const seen = sorted().map((r) => `${r.service}.${r.id}:${r.phase}(${r.message})`);
        reject(new Error(`timed out waiting for ${what}; replicas: ${seen.join(" ") || "none"}`));
      }, timeoutMs);
    });
  }

  /** Every process of the replica's group (pid = pgid), from /proc. */
  groupPids(pgid: number): number[] {
    const out: number[] = [];
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (Number(f[2]) === pgid && f[0] !== "Z") out.push(Number(name));
      } catch {}
    }
    return out;
  }

  groupRunning(pgid: number): boolean {
    return groupRunning(pgid);
  }

  async dispose(): Promise<void> {
    for (const p of this.procs) await p.stop(15_000);
    // Nothing a test started may outlive it: stop any replica group still around.
    for (const svc of safeReaddir(join(this.stateDir, "replicas")))
      for (const id of safeReaddir(join(this.stateDir, "replicas", svc))) {
        try {
          const st = JSON.parse(readFileSync(join(this.stateDir, "replicas", svc, id, "state.json"), "utf8"));
          process.kill(-st.pgid, "SIGKILL");
        } catch {}
      }
    await this.nc?.close();
    await this.nats?.dispose();
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

function safeReaddir(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

export const inPhase = (rs: ReplicaRecord[], phase: string) => rs.filter((r) => r.phase === phase);
