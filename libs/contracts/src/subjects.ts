// @pure: no I/O (tools/lint-boundaries checks it)
/**
 * Every subject, stream and KV bucket of Switchyard. Nothing else in the repo spells one.
 *
 * Subject grammar:
 *   yard.api.<area>.<verb>              request/reply APIs (spec service, provisioner logs)
 *   yard.events.<service>.<type>        past-tense events, kept in the YARD_EVENTS stream
 *   yard.hint.probe                     a proxy saw a connect error: re-probe this replica now
 *   yard.load                           proxy load reports in batches (LoadBatch, load.ts) for the
 *                                       autoscaler and the provisioner (no per-proxy token: a
 *                                       proxy id holds `.` and `:`, not valid in one)
 * KV keys: `<service>` in spec buckets, `<service>.<replicaId>` in replica buckets.
 */
export const Buckets = {
  /** Resolved specs, secrets included. Writer: spec service. Readers: provisioner, prober. */
  specs: "yard-specs",
  /** The secret-free routing view of each spec (policy, target QPS). Writer: spec service. Reader: proxy. */
  services: "yard-services",
  /** Replica records (phase, url, accelerator). Writer: provisioner. */
  replicas: "yard-replicas",
  /** Present ⇔ replica ready. Writer: prober. Readers: proxy, provisioner, CLI. */
  endpoints: "yard-endpoints",
  /** Desired replica count and why (ScaleRecord). Writer: autoscaler. Readers: provisioner, CLI. */
  scale: "yard-scale",
  /** A service's `service.tls` certificate and key (TlsRecord). Writer: spec service. Reader: proxy. */
  tls: "yard-tls",
  /**
   * One key per single-writer role (`spec`, `provisioner`, `prober`, `autoscaler`): the lease of
   * the instance that acts (LeaseRecord, lease.ts). Each role may write its own key only.
   */
  leases: "yard-leases",
} as const;
export type BucketName = (typeof Buckets)[keyof typeof Buckets];

/**
 * Values each bucket keeps per key. Every stream is created by the spec service alone, from
 * this table and Streams (libs/bus createYardStreams): a user that creates a stream chooses its
 * whole config, `republish`, `sources` and `mirror` included, which no NATS grant can see.
 */
export const BucketHistory: Record<BucketName, number> = {
  [Buckets.specs]: 5,
  [Buckets.services]: 5,
  [Buckets.replicas]: 5,
  [Buckets.endpoints]: 5,
  [Buckets.scale]: 5,
  // One: a replaced or deleted private key does not linger in the stream.
  [Buckets.tls]: 1,
  // One: only the latest revision decides who holds a lease.
  [Buckets.leases]: 1,
};

export const Streams = {
  /** Kept a week or 100k events, whichever ends first. */
  events: {
    name: "YARD_EVENTS",
    subjects: ["yard.events.>"],
    maxAgeMs: 7 * 24 * 3600 * 1000,
    maxMsgs: 100_000,
  },
} as const;

export const Subjects = {
  specApply: "yard.api.spec.apply",
  specGet: "yard.api.spec.get",
  specList: "yard.api.spec.list",
  specDelete: "yard.api.spec.delete",
  /** Provisioner answers with a chunk of a replica's log file. */
  replicaLogs: "yard.api.replica.logs",
  /** Provisioner drains and stops one replica (`yard down NAME --replica-id N`). */
  replicaDown: "yard.api.replica.down",
  probeHint: "yard.hint.probe",
  eventsAll: "yard.events.>",
  events: (service: string, type: string) => `yard.events.${service}.${type}`,
  eventsOfType: (type: string) => `yard.events.*.${type}`,
  /** The proxies' load reports, batched (LoadBatch): one message per proxy per interval. */
  load: "yard.load",
} as const;

/** KV key of a role's lease in yard-leases: the role (its bus user) itself. */
export function leaseKey(role: string): string {
  return role;
}

/** KV key of a replica: `<service>.<id>`. Service names cannot contain dots (see names.ts). */
export function replicaKey(service: string, id: number): string {
  return `${service}.${id}`;
}

export function parseReplicaKey(key: string): { service: string; id: number } | null {
  const m = /^([a-z][-a-z0-9]*)\.(\d+)$/.exec(key);
  return m ? { service: m[1], id: Number(m[2]) } : null;
}
