import type { Logger } from "@switchyard/bus";
import { type ReplicaRecord, replicaKey } from "@switchyard/contracts";

/**
 * The provisioner's replica records: it is the single writer of `yard-replicas`, so its memory
 * is the truth and the bucket a copy. Writes go out in order, each writing the key's latest
 * value; a failed write (NATS away) is retried until it lands.
 */
export class ReplicaStore {
  private readonly map = new Map<string, ReplicaRecord>();
  private chain: Promise<void> = Promise.resolve();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    // libs/bus FencedKv in the service (writes fenced by the lease), a plain KV in tests.
    private readonly kv: {
      put(key: string, value: string): Promise<unknown>;
      delete(key: string): Promise<unknown>;
    },
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  load(records: Iterable<ReplicaRecord>): void {
    for (const r of records) this.map.set(replicaKey(r.service, r.id), r);
  }

  get(key: string): ReplicaRecord | undefined {
    return this.map.get(key);
  }

  all(): ReplicaRecord[] {
    return [...this.map.values()];
  }

  put(r: ReplicaRecord): ReplicaRecord {
    const rec = { ...r, updated_at: this.now().toISOString() };
    const key = replicaKey(r.service, r.id);
    this.map.set(key, rec);
    this.write(key);
    return rec;
  }

  remove(key: string): void {
    if (this.map.delete(key)) this.write(key);
  }

  /** Resolves when every write issued so far has been attempted. */
  flush(): Promise<void> {
    return this.chain;
  }

  /**
   * Write nothing more: the term ended. Its memory is no longer the truth (the next term's is),
   * so a late write, or a retry of one refused meanwhile, must not land over the next term's.
   */
  close(): void {
    this.closed = true;
    for (const t of this.retryTimers) clearTimeout(t);
  }

  private write(key: string): void {
    if (this.closed) return;
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      const v = this.map.get(key);
      try {
        if (v) await this.kv.put(key, JSON.stringify(v));
        else await this.kv.delete(key);
      } catch (err) {
        if (this.closed) return;
        this.logger.warn({ key, err: String(err) }, "writing a replica record failed; retrying in 1 s");
        const t = setTimeout(() => {
          this.retryTimers.delete(t);
          this.write(key);
        }, 1_000);
        this.retryTimers.add(t);
      }
    });
  }
}
