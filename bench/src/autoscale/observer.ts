import { connect } from "node:net";
import { type KV, silentLogger, watchBucket } from "@switchyard/bus";
import { EndpointRecord, parseReplicaKey, ReplicaRecord, ScaleRecord } from "@switchyard/contracts";
import type { Proc } from "@switchyard/testkit";
import { now } from "./clock.js";

/** One replica as the bench saw it: when each phase was first seen, and when its engine listened. */
export interface ReplicaSeen {
  service: string;
  id: number;
  url: string | null;
  /**
   * Its record first seen: the launch. (The provisioner writes the latest state of a record, so
   * a short phase such as PROVISIONING may never reach the bucket.)
   */
  launchedAt: number | null;
  /** Phase → first time seen (bench clock, epoch ms). */
  phases: Map<string, number>;
  /** When its engine first accepted a TCP connection (probed every few ms once it had a URL). */
  listenAt: number | null;
  /** Its endpoint first put (it passed a probe). */
  readyAt: number | null;
  /** Routed by each proxy (index) from its "route table changed" line. */
  routedAt: Map<number, number>;
  goneAt: number | null;
}

export interface ScaleSeen {
  at: number;
  record: ScaleRecord;
}

/** How often the engine's port is tried while it starts (the error bar of its cold start). */
const LISTEN_POLL_MS = 5;

/**
 * Everything the bench times, as it happens: yard-scale, yard-replicas and yard-endpoints through
 * KV watches, and each proxy's route changes from its log lines. `until` awaits a condition
 * checked after every change (no polling), so phases wait on what they measure.
 */
export class Observer {
  readonly scale: ScaleSeen[] = [];
  readonly replicas = new Map<string, ReplicaSeen>();
  /** Endpoints present now (not draining). */
  readonly endpoints = new Map<string, EndpointRecord>();
  /** Services each proxy (index) has logged a route for. */
  readonly proxyServices: Set<string>[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly stops: (() => void)[] = [];
  private stopped = false;

  constructor(
    kvs: { scale: KV; replicas: KV; endpoints: KV },
    private readonly proxies: Proc[],
  ) {
    const sw = watchBucket(
      kvs.scale,
      ScaleRecord,
      (c) => {
        if (c.op === "put") this.scale.push({ at: now(), record: c.value });
        this.changed();
      },
      silentLogger,
    );
    const rw = watchBucket(
      kvs.replicas,
      ReplicaRecord,
      (c) => {
        const t = now();
        const r = this.replica(c.key);
        if (!r) return;
        if (c.op === "del") r.goneAt ??= t;
        else {
          r.launchedAt ??= t;
          if (!r.phases.has(c.value.phase)) r.phases.set(c.value.phase, t);
          if (c.value.url && !r.url) {
            r.url = c.value.url;
            this.watchListen(r);
          }
        }
        this.changed();
      },
      silentLogger,
    );
    const ew = watchBucket(
      kvs.endpoints,
      EndpointRecord,
      (c) => {
        const r = this.replica(c.key);
        if (c.op === "put" && !c.value.draining) {
          this.endpoints.set(c.key, c.value);
          if (r) r.readyAt ??= now();
        } else this.endpoints.delete(c.key);
        this.changed();
      },
      silentLogger,
    );
    this.stops.push(
      () => sw.stop(),
      () => rw.stop(),
      () => ew.stop(),
    );
    proxies.forEach((p, i) => {
      this.proxyServices.push(new Set());
      const onData = lineReader((line) => this.proxyLine(i, line));
      p.child.stdout!.on("data", onData);
      this.stops.push(() => p.child.stdout!.off("data", onData));
    });
    this.ready = Promise.all([sw.ready, rw.ready, ew.ready]).then(() => {});
  }

  readonly ready: Promise<void>;

  /** Resolves once `cond()` holds (checked now and after every change); rejects after `timeoutMs`. */
  until(cond: () => boolean, what: string, timeoutMs: number, describe?: () => string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}${describe ? `: ${describe()}` : ""}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** The latest yard-scale record of a service. */
  latestScale(service: string): ScaleSeen | undefined {
    for (let i = this.scale.length - 1; i >= 0; i--)
      if (this.scale[i].record.service === service) return this.scale[i];
    return undefined;
  }

  /** The service's replicas in id order. */
  replicasOf(service: string): ReplicaSeen[] {
    return [...this.replicas.values()].filter((r) => r.service === service).sort((a, b) => a.id - b.id);
  }

  /** Replicas of the service with a ready (not draining) endpoint now. */
  readyCount(service: string): number {
    let n = 0;
    for (const e of this.endpoints.values()) if (e.service === service) n++;
    return n;
  }

  /** When every proxy had routed the replica (null: not yet). */
  routedByAll(r: ReplicaSeen): number | null {
    if (r.routedAt.size < this.proxies.length) return null;
    return Math.max(...r.routedAt.values());
  }

  /** A service's state in one line, for a phase that timed out. */
  describe(service: string): string {
    const s = this.latestScale(service)?.record;
    const rs = this.replicasOf(service).map((r) => {
      const phases = [...r.phases.keys()].join(">");
      const flags = [
        r.listenAt !== null && "listened",
        r.readyAt !== null && "ready",
        `routed by ${r.routedAt.size}/${this.proxies.length}`,
        r.goneAt !== null && "gone",
      ].filter(Boolean);
      return `${r.id}:${phases} (${flags.join(", ")})`;
    });
    return `target ${s?.target_replicas ?? "none"} (${s?.reason ?? "no record"}); replicas ${rs.join("; ") || "none"}`;
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.stops) s();
  }

  private replica(key: string): ReplicaSeen | null {
    let r = this.replicas.get(key);
    if (!r) {
      const k = parseReplicaKey(key);
      if (!k) return null;
      r = {
        ...k,
        url: null,
        launchedAt: null,
        phases: new Map(),
        listenAt: null,
        readyAt: null,
        routedAt: new Map(),
        goneAt: null,
      };
      this.replicas.set(key, r);
    }
    return r;
  }

  private proxyLine(i: number, line: string): void {
    if (!line.includes('"msg":"route table changed"') && !line.includes('"msg":"service route changed"'))
      return;
    const t = now();
    let v: { msg?: string; op?: string; replica?: string; service?: string };
    try {
      v = JSON.parse(line);
    } catch {
      return;
    }
    if (v.msg === "service route changed" && v.op === "put" && v.service)
      this.proxyServices[i].add(v.service);
    if (v.msg === "route table changed" && v.op === "put" && v.replica) {
      const r = this.replica(v.replica);
      if (r && !r.routedAt.has(i)) r.routedAt.set(i, t);
    }
    this.changed();
  }

  /** The engine's cold start ends when its port accepts a connection: try it every few ms. */
  private watchListen(r: ReplicaSeen): void {
    const u = new URL(r.url!);
    const attempt = () => {
      if (this.stopped || r.goneAt !== null) return;
      const s = connect({ host: u.hostname, port: Number(u.port) });
      s.once("connect", () => {
        r.listenAt ??= now();
        s.destroy();
        this.changed();
      });
      s.once("error", () => {
        s.destroy();
        setTimeout(attempt, LISTEN_POLL_MS);
      });
    };
    attempt();
  }

  private changed(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** A `data` listener that calls `onLine` per complete line. */
export function lineReader(onLine: (line: string) => void): (d: Buffer) => void {
  let buf = "";
  return (d) => {
    buf += d.toString();
    const lines = buf.split("\n");
    buf = lines.pop()!;
    for (const l of lines) onLine(l);
  };
}
