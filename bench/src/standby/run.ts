import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { call, connectBus, getJson, type KV, openBucket, silentLogger } from "@switchyard/bus";
import {
  ApplyResult,
  Buckets,
  EndpointRecord,
  LEASE_DEFAULTS,
  ReplicaRecord,
  replicaKey,
  SCALE_SCHEMA_VERSION,
  ScaleRecord,
  SpecRecord,
  Subjects,
} from "@switchyard/contracts";
import { type Proc, startNats, startTs } from "@switchyard/testkit";

/**
 * `pnpm bench standby [--trials N] [--ttl-ms T] [--renew-ms R]`: takeover time of each single
 * writer. For each of spec, autoscaler, prober and provisioner, two instances run (real
 * processes on a loopback nats-server); the leader is SIGKILLed and, at the same instant, a
 * change only a leader acts on is made; the time is from the kill to that change landing,
 * written by the standby (spec: a `yard up` answered; autoscaler: the yard-scale record of the
 * new spec revision; prober: a new replica's endpoint; provisioner: a launch for a raised
 * yard-scale target, with the running replica adopted, not relaunched). After each trial a
 * fresh standby is started for the next. Last line: one JSON object.
 */
export async function runStandbyBench(args: string[], signal: AbortSignal): Promise<void> {
  const opt = (name: string, def: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  const trials = opt("trials", 3);
  const lease = {
    YARD_LEASE_TTL_MS: String(opt("ttl-ms", LEASE_DEFAULTS.ttlMs)),
    YARD_LEASE_RENEW_MS: String(opt("renew-ms", LEASE_DEFAULTS.renewMs)),
  };
  const nats = await startNats();
  const stateDir = mkdtempSync(join(tmpdir(), "yard-bench-standby-"));
  const procs: Proc[] = [];
  const servers: Server[] = [];
  const nc = await connectBus({ url: nats.url, name: "bench-standby", logger: silentLogger });
  const start = (svc: string, env: NodeJS.ProcessEnv = {}) => {
    const p = startTs(`services/${svc}/src/main.ts`, [], { NATS_URL: nats.url, ...lease, ...env });
    procs.push(p);
    void p.exited.then((code) => console.log(`${svc} pid ${p.child.pid} exited (${code})`));
    return p;
  };
  const stopAll = async () => {
    await Promise.all(procs.map((p) => p.stop(5_000)));
    for (const s of servers) s.close();
    await nc.close();
    await nats.dispose();
    rmSync(stateDir, { recursive: true, force: true });
  };
  signal.addEventListener("abort", () => void stopAll());
  type Result = {
    takeover_ms: number[];
    lease_ms: number[];
    ready_ms: number[];
    p50_ms: number;
    max_ms: number;
  };
  const results: Record<string, Result> = {};

  try {
    const spec = [start("spec", { YARD_SPEC_HTTP_PORT: "0" })];
    await spec[0].waitForLine(/"msg":"ready"/, 120_000);
    let maxReplicas = 2;
    // A request sent as the leader dies can reach its subscription before the server has seen
    // the connection close, and go unanswered: a client retries after a short timeout.
    const apply = () =>
      call<unknown>(
        nc,
        Subjects.specApply,
        {
          yaml: `name: bench\nrun: exec sleep 600\nresources:\n  ports: 8000\nservice:\n  readiness_probe: /v1/models\n  replica_policy:\n    min_replicas: 1\n    max_replicas: ${maxReplicas}\n    target_qps_per_replica: 1\n`,
        },
        1_000,
      ).then((r) => {
        // The next apply is a change again (within YARD_MAX_REPLICAS_PER_SERVICE).
        maxReplicas = maxReplicas >= 60 ? 2 : maxReplicas + 1;
        return ApplyResult.parse(r);
      });
    await apply();
    const kvs = {
      scale: await openBucket(nc, Buckets.scale),
      replicas: await openBucket(nc, Buckets.replicas),
      endpoints: await openBucket(nc, Buckets.endpoints),
      specs: await openBucket(nc, Buckets.specs),
    };

    /** One service's trials: `change` is made at the kill; `landed` resolves when the new leader's write is seen. */
    async function measure(
      name: string,
      instances: Proc[],
      launch: () => Proc,
      trial: (kill: () => Promise<number>) => Promise<number>,
    ): Promise<void> {
      const times: number[] = [];
      const leaseMs: number[] = [];
      const readyMs: number[] = [];
      for (let i = 0; i < trials && !signal.aborted; i++) {
        const standby = launch();
        console.log(`${name} trial ${i + 1}: a standby starts`);
        await standby.waitForLine(/lease held by another: standing by/, 120_000);
        // An autoscaler standby is hot once it has heard the proxies for its warm-up; one that
        // has run for a while always has.
        if (name === "autoscaler") await standby.waitForLine(/standing by warm/, 120_000);
        const leader = instances.shift()!;
        console.log(
          `${name} trial ${i + 1}: pid ${standby.child.pid} stands by; killing the leader, pid ${leader.child.pid}`,
        );
        instances.push(standby);
        let killedAt = 0;
        const kill = async () => {
          process.kill(-leader.child.pid!, "SIGKILL");
          killedAt = Date.now();
          return performance.now();
        };
        const ms = await trial(kill);
        // Where the time went, from the new leader's log (wall clock, this host): the lease
        // taken, then its start done ("ready").
        const at = async (re: RegExp) =>
          Date.parse(JSON.parse(await standby.waitForLine(re)).time) - killedAt;
        const l = await at(/lease acquired: leading/);
        const r = await at(/"msg":"ready"/);
        times.push(Math.round(ms));
        leaseMs.push(l);
        readyMs.push(r);
        console.log(
          `${name} trial ${i + 1}: takeover ${Math.round(ms)} ms (lease taken ${l} ms, started ${r} ms after the kill)`,
        );
        await leader.exited;
      }
      const sorted = [...times].sort((a, b) => a - b);
      results[name] = {
        takeover_ms: times,
        lease_ms: leaseMs,
        ready_ms: readyMs,
        p50_ms: sorted[Math.floor(sorted.length / 2)],
        max_ms: sorted.at(-1)!,
      };
    }

    // spec: a `yard up` (NATS API) retried every 50 ms until the new leader answers it.
    await measure(
      "spec",
      spec,
      () => start("spec", { YARD_SPEC_HTTP_PORT: "0" }),
      async (kill) => {
        const t0 = await kill();
        for (;;) {
          // Bounded here too: a request whose responder died as it was sent was seen to hang
          // past its own timeout.
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<"late">((r) => {
            timer = setTimeout(() => r("late"), 1_500);
          });
          try {
            const r = await Promise.race([apply(), late]);
            if (r !== "late") return performance.now() - t0;
          } catch {
            await new Promise((r) => setTimeout(r, 50));
          } finally {
            clearTimeout(timer);
          }
        }
      },
    );

    // autoscaler: the spec changes at the kill; the new leader's spec_changed record lands.
    const autoscalerEnv = { YARD_AUTOSCALER_METRICS_PORT: "0" };
    const autoscalers = [start("autoscaler", autoscalerEnv)];
    await autoscalers[0].waitForLine(/"msg":"ready"/, 120_000);
    await measure(
      "autoscaler",
      autoscalers,
      () => start("autoscaler", autoscalerEnv),
      async (kill) => {
        const t0 = await kill();
        const rev = (await apply()).record.revision;
        await until(kvs.scale, "bench", ScaleRecord, (r) => r.revision === rev);
        return performance.now() - t0;
      },
    );

    // prober: a new replica (a real HTTP engine) appears at the kill; its endpoint lands.
    const probers = [start("prober")];
    await probers[0].waitForLine(/"msg":"ready"/, 120_000);
    const revision = async () => (await getJson(kvs.specs, "bench", SpecRecord))?.value.revision ?? 1;
    let nextId = 100;
    await measure(
      "prober",
      probers,
      () => start("prober"),
      async (kill) => {
        const url = await engine(servers);
        const id = nextId++;
        const t0 = await kill();
        await kvs.replicas.put(
          replicaKey("bench", id),
          JSON.stringify(replicaFor(id, url, await revision())),
        );
        await until(kvs.endpoints, replicaKey("bench", id), EndpointRecord, () => true);
        return performance.now() - t0;
      },
    );
    for (const p of probers) await p.stop(5_000);
    // The prober's stand-in replicas go: the provisioner must start from its own.
    for (let id = 100; id < nextId; id++) await kvs.replicas.delete(replicaKey("bench", id));
    for (const p of autoscalers) await p.stop(5_000);

    // provisioner: yard-scale's target rises at the kill; the new leader launches one replica,
    // adopting the running ones (same handles).
    const provEnv = { YARD_STATE_DIR: stateDir, YARD_GPUS: "", YARD_TERMINATE_GRACE_MS: "3000" };
    const provisioners = [start("provisioner", provEnv)];
    await provisioners[0].waitForLine(/"msg":"ready"/, 120_000);
    let target = 1;
    const setTarget = async (n: number) => {
      const rec: ScaleRecord = {
        schema: SCALE_SCHEMA_VERSION,
        service: "bench",
        target_replicas: n,
        updated_at: new Date().toISOString(),
      };
      await kvs.scale.put("bench", JSON.stringify(rec));
    };
    await setTarget(target);
    await untilReplicas(
      kvs.replicas,
      (rs) => rs.filter(running).length === target && rs.every((r) => r.handle),
    );
    let duplicates = 0;
    await measure(
      "provisioner",
      provisioners,
      () => start("provisioner", provEnv),
      async (kill) => {
        // Every replica launched and recorded with its handle before the kill.
        const before = (
          await untilReplicas(
            kvs.replicas,
            (rs) => rs.filter(running).length === target && rs.filter(running).every((r) => r.handle),
          )
        ).filter(running);
        const t0 = await kill();
        await setTarget(++target);
        const after = await untilReplicas(kvs.replicas, (rs) => rs.filter(running).length >= target);
        const ms = performance.now() - t0;
        const replaced = before.filter((b) => !after.some((a) => a.id === b.id && a.handle === b.handle));
        const extra = after.filter(running).length - target;
        if (replaced.length || extra)
          console.log(`provisioner: ${replaced.length} replaced, ${extra} extra`, after);
        duplicates += replaced.length + Math.max(0, extra);
        return ms;
      },
    );
    const summary = {
      bench: "standby",
      lease_ttl_ms: Number(lease.YARD_LEASE_TTL_MS),
      lease_renew_ms: Number(lease.YARD_LEASE_RENEW_MS),
      trials,
      duplicate_replicas: duplicates,
      ...results,
    };
    console.log(JSON.stringify(summary));
  } finally {
    await stopAll();
  }
}

const running = (r: ReplicaRecord) => ["PROVISIONING", "STARTING", "READY", "NOT_READY"].includes(r.phase);

function replicaFor(id: number, url: string, revision: number): ReplicaRecord {
  const now = new Date().toISOString();
  return ReplicaRecord.parse({
    schema: 1,
    service: "bench",
    id,
    revision,
    phase: "STARTING",
    backend: "local",
    url,
    port: Number(new URL(url).port),
    accelerator: null,
    accelerator_count: null,
    gpu_indices: [],
    handle: null,
    host: "127.0.0.1",
    reason: null,
    message: null,
    launched_at: now,
    updated_at: now,
    first_ready_at: null,
  });
}

async function engine(servers: Server[]): Promise<string> {
  const s = createServer((_q, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"data":[]}');
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
}

/** Resolves once `key`'s value parses and satisfies `pred` (a KV watch: every update is seen). */
async function until<T>(
  kv: KV,
  key: string,
  schema: { safeParse(v: unknown): { success: boolean; data?: T } },
  pred: (v: T) => boolean,
): Promise<void> {
  const w = await kv.watch({ key });
  for await (const e of w) {
    if (e.operation !== "PUT") continue;
    const r = schema.safeParse(JSON.parse(e.string()));
    if (r.success && pred(r.data as T)) {
      w.stop();
      return;
    }
  }
}

async function allReplicas(kv: KV): Promise<ReplicaRecord[]> {
  const out: ReplicaRecord[] = [];
  for await (const k of await kv.keys()) {
    const v = await getJson(kv, k, ReplicaRecord);
    if (v) out.push(v.value);
  }
  return out;
}

/** Resolves with every replica record once `pred` holds (re-read at each change the watch sees). */
async function untilReplicas(kv: KV, pred: (rs: ReplicaRecord[]) => boolean): Promise<ReplicaRecord[]> {
  const w = await kv.watch();
  try {
    const now = await allReplicas(kv);
    if (pred(now)) return now;
    for await (const _ of w) {
      const rs = await allReplicas(kv);
      if (pred(rs)) return rs;
    }
    throw new Error("watch ended");
  } finally {
    w.stop();
  }
}
