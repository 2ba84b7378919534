import type { Socket } from "node:net";
import {
  connectBus,
  createBucket,
  type KV,
  type Logger,
  listen,
  type NatsConnection,
  putJson,
  silentLogger,
} from "@switchyard/bus";
import {
  type LbPolicy,
  LoadBatch,
  type LoadReport,
  replicaKey,
  type ServiceRoute,
  Subjects,
} from "@switchyard/contracts";
import {
  endpointRecord,
  type Proc,
  routeRecord,
  startNats,
  startTs,
  type TestNats,
} from "@switchyard/testkit";
import type { RoutesView } from "../src/routes-view.js";

/** A real proxy process (services/proxy/src/main.ts) on free ports. */
export interface ProxyProc {
  proc: Proc;
  /** http://127.0.0.1:PORT of the data plane. */
  url: string;
  admin: string;
  /** Its `proxy_id` in load reports (logged with "ready"). */
  id: string;
  routes(): Promise<RoutesView>;
  /** Resolves once this proxy applied yard-endpoints revision >= rev (its log says so). */
  applied(rev: number): Promise<void>;
  /** Resolves once this proxy has logged a line matching `re` (already or later). */
  logged(re: RegExp): Promise<void>;
}

function field(line: string, key: string): string {
  return String((JSON.parse(line) as Record<string, unknown>)[key]);
}

export async function startProxy(natsUrl: string, env: NodeJS.ProcessEnv = {}): Promise<ProxyProc> {
  const proc = startTs("services/proxy/src/main.ts", [], {
    NATS_URL: natsUrl,
    YARD_PROXY_HOST: "127.0.0.1",
    YARD_PROXY_PORT: "0",
    YARD_PROXY_ADMIN_PORT: "0",
    LOG_LEVEL: "info",
    ...env,
  });
  const dataLine = await proc.waitForLine(/"server":"proxy".*"msg":"listening"/, 60_000);
  const adminLine = await proc.waitForLine(/"server":"admin".*"msg":"listening"/, 60_000);
  const readyLine = await proc.waitForLine(/"msg":"ready"/, 60_000);
  const admin = field(adminLine, "address");
  const p: ProxyProc = {
    proc,
    url: field(dataLine, "address"),
    admin,
    id: field(readyLine, "proxy_id"),
    async routes() {
      const r = await fetch(`${admin}/-/routes`);
      return (await r.json()) as RoutesView;
    },
    async logged(re) {
      await proc.waitForLine(re, 30_000);
    },
    async applied(rev) {
      const versionOf = (l: string) => Number(/"version":(\d+)/.exec(l)?.[1] ?? -1);
      const ok = () => proc.lines.some((l) => versionOf(l) >= rev);
      if (ok()) return;
      // Each applied change logs its revision: wait for such a line (no polling).
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`proxy never applied revision ${rev}`)), 30_000);
        const on = () => {
          if (!ok()) return;
          clearTimeout(t);
          proc.child.stdout!.off("data", on);
          resolve();
        };
        proc.child.stdout!.on("data", on);
      });
    },
  };
  return p;
}

/** The bus side of a test: a real nats-server, and the buckets the prober / spec service write. */
export class TestBus {
  private constructor(
    readonly nats: TestNats,
    readonly nc: NatsConnection,
    readonly endpoints: KV,
    readonly services: KV,
  ) {}

  static async start(): Promise<TestBus> {
    const nats = await startNats();
    const nc = await connectBus({ url: nats.url, name: "proxy-test", logger: silentLogger });
    const { Buckets } = await import("@switchyard/contracts");
    // What the spec service would have created (only it creates streams); yard-tls is read by
    // a proxy with HTTPS on.
    const [endpoints, services] = await Promise.all([
      createBucket(nc, Buckets.endpoints),
      createBucket(nc, Buckets.services),
      createBucket(nc, Buckets.tls),
    ]);
    return new TestBus(nats, nc, endpoints, services);
  }

  /** Put an endpoint as the prober does; returns its KV revision. */
  putEndpoint(service: string, id: number, url: string, accelerator: string | null = null): Promise<number> {
    const rec = endpointRecord({ service, replica_id: id, url, accelerator });
    return this.retry(() => putJson(this.endpoints, replicaKey(service, id), rec));
  }

  /** Right after a nats-server restart, JetStream may time out a first publish: retry those. */
  private async retry<T>(f: () => Promise<T>, attempts = 10): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await f();
      } catch (err) {
        if (i >= attempts || !/timeout|TIMEOUT|503|no responders/i.test(String(err))) throw err;
      }
    }
  }

  deleteEndpoint(service: string, id: number): Promise<number> {
    return this.endpoints.delete(`${service}.${id}`).then(async () => {
      const st = await this.endpoints.status();
      return st.streamInfo.state.last_seq;
    });
  }

  putService(
    name: string,
    policy: LbPolicy,
    target: ServiceRoute["target_qps_per_replica"] = null,
    over: Partial<ServiceRoute> = {},
  ): Promise<number> {
    const r = routeRecord({ name, load_balancing_policy: policy, target_qps_per_replica: target, ...over });
    return putJson(this.services, name, r);
  }

  /** A service that idles at zero replicas (`min_replicas: 0`), as the spec service writes it. */
  putIdleService(name: string, policy: LbPolicy = "least_load"): Promise<number> {
    const p = routeRecord().replica_policy!;
    return this.putService(name, policy, 2, { replica_policy: { ...p, min_replicas: 0, max_replicas: 3 } });
  }

  async close(): Promise<void> {
    await this.nc.close().catch(() => {});
    await this.nats.dispose();
  }
}

/** A fake OpenAI engine process (the vLLM stand-in) on a free port. */
export async function startEngine(
  apiKey: string,
  extra: string[] = [],
): Promise<{ proc: Proc; url: string }> {
  const proc = startTs("tools/fake-engine/src/main.ts", [
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--api-key",
    apiKey,
    ...extra,
  ]);
  const line = await proc.waitForLine(/listening on (http:\/\/\S+)/, 60_000);
  return { proc, url: /listening on (http:\/\/\S+)/.exec(line)![1] };
}

/** Resolves once the proxy has written at least `n` access-log lines (one per finished request). */
export function accessLines(p: ProxyProc, n: number, timeoutMs = 30_000): Promise<void> {
  const count = () => p.proc.lines.filter((l) => l.includes('"msg":"request"')).length;
  if (count() >= n) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`only ${count()} of ${n} access lines`)), timeoutMs);
    const on = () => {
      if (count() < n) return;
      clearTimeout(t);
      p.proc.child.stdout!.off("data", on);
      resolve();
    };
    p.proc.child.stdout!.on("data", on);
  });
}

/**
 * Every LoadReport published (batched) on `yard.load` while it listens, validated by the
 * contract's strict schema (a batch that does not parse lands in `malformed`); `batches` keeps
 * each batch's reports as they came, to check how a tick was sent.
 */
export class LoadReports {
  readonly all: LoadReport[] = [];
  readonly batches: LoadReport[][] = [];
  readonly malformed: unknown[] = [];
  private readonly waiters: {
    from: number;
    ok: (r: LoadReport) => boolean;
    resolve: (r: LoadReport) => void;
  }[] = [];
  private readonly sub: { stop(): void };

  constructor(nc: NatsConnection) {
    const logger: Logger = { ...silentLogger, warn: (o) => this.malformed.push(o) };
    this.sub = listen(
      nc,
      Subjects.load,
      LoadBatch,
      (b) => {
        this.batches.push(b.reports);
        for (const r of b.reports) {
          this.all.push(r);
          const at = this.all.length - 1;
          for (const w of [...this.waiters])
            if (at >= w.from && w.ok(r)) {
              this.waiters.splice(this.waiters.indexOf(w), 1);
              w.resolve(r);
            }
        }
      },
      logger,
      "load batch",
    );
  }

  /** The first report from index `from` on (already received or later) that `ok` accepts. */
  wait(what: string, ok: (r: LoadReport) => boolean, from = 0, timeoutMs = 15_000): Promise<LoadReport> {
    const hit = this.all.slice(from).find(ok);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w = {
        from,
        ok,
        resolve: (r: LoadReport) => {
          clearTimeout(t);
          resolve(r);
        },
      };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no load report ${what} (${this.all.length} seen)`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Reports of one proxy about one service. */
  of(proxyId: string, service: string): LoadReport[] {
    return this.all.filter((r) => r.proxy_id === proxyId && r.service === service);
  }

  stop(): void {
    this.sub.stop();
  }
}

/** Reads from `s` until `done(what arrived)`; resolves with everything read. */
export function readUntil(s: Socket, done: (got: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const on = (d: Buffer) => {
      got += d.toString("latin1");
      if (!done(got)) return;
      s.off("data", on);
      s.off("close", closed);
      resolve(got);
    };
    const closed = () =>
      done(got) ? resolve(got) : reject(new Error(`connection closed; read so far: ${JSON.stringify(got)}`));
    s.on("data", on);
    s.once("close", closed);
  });
}

/** Bounded wait for a state only the admin API shows (there is no event for it). */
export async function until<T>(
  what: string,
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
