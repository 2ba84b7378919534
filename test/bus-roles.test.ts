import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  call,
  connectBus,
  consumeDurable,
  createBucket,
  createYardStreams,
  type DurableConsumer,
  ensureDurableConsumer,
  jetstream,
  type KV,
  type Logger,
  listen,
  type NatsConnection,
  openBucket,
  putJson,
  serve,
  silentLogger,
  waitForEventsStream,
} from "@switchyard/bus";
import {
  Buckets,
  type BusUser,
  Durables,
  LogsRequest,
  ProbeHint,
  ReplicaDownRequest,
  Streams,
  Subjects,
  YardError,
  YardEvent,
} from "@switchyard/contracts";
import { type Proc, run, startNats, startTs, type TestNats } from "@switchyard/testkit";
import { BUS_USERS, devPassword, NATS_CONF_PATH, passwordVar } from "@switchyard/up";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Bus roles that cannot be exceeded (issue 8): each NATS user of deploy/nats/yard.conf, on a
 * real nats-server 2.9.10, tries what its role does not allow — publish and subscribe outside
 * it, JetStream API verbs, KV writes, and push consumers whose deliver subject is someone
 * else's — and each try is refused or changes nothing (the streams are compared before and
 * after, not only the error). The spec service runs as a real process; the provisioner's logs
 * API and durable consumer are libs/bus's serve/consumeDurable as the provisioner user, the
 * prober's hint listener is libs/bus's listen as the prober user.
 * Findings and open paths: SECURITY.md ("Bus roles").
 */

// The roles in words, written here apart from libs/contracts/src/access.ts (which generates
// yard.conf): a change there that widens a role fails this test.
const WRITER: Record<string, BusUser | null> = {
  [Buckets.specs]: "spec",
  [Buckets.services]: "spec",
  [Buckets.tls]: "spec",
  [Buckets.replicas]: "provisioner",
  [Buckets.endpoints]: "prober",
  [Buckets.scale]: "autoscaler",
};
const READERS: Record<string, BusUser[]> = {
  [Buckets.specs]: ["spec", "provisioner", "prober"],
  [Buckets.services]: ["spec", "proxy", "autoscaler"],
  [Buckets.tls]: ["spec", "proxy"],
  [Buckets.replicas]: ["provisioner", "prober", "autoscaler", "cli"],
  [Buckets.endpoints]: ["provisioner", "prober", "proxy", "cli"],
  [Buckets.scale]: ["provisioner", "autoscaler", "cli"],
};
const EVENTS: Record<BusUser, string[]> = {
  spec: ["spec.published", "spec.deleted"],
  provisioner: [
    "replica.launched",
    "replica.phase_changed",
    "replica.terminated",
    "replica.draining",
    "replica.drained",
    "traffic.switched",
  ],
  prober: ["replica.ready", "replica.unready", "replica.failed"],
  proxy: [],
  autoscaler: ["autoscaler.decided"],
  cli: [],
};
const ALL_EVENTS = Object.values(EVENTS).flat();
/** Single writers with standbys: each writes, reads and watches its own key of yard-leases only. */
const LEASE_HOLDERS: BusUser[] = ["spec", "provisioner", "prober", "autoscaler"];
/** Users that read the events stream (`yard events`) with consumers of their own. */
const EVENT_READERS: BusUser[] = ["cli"];
/** Users that answer the CLI's requests, on its inbox. */
const ANSWERS_CLI: BusUser[] = ["spec", "provisioner"];
const DURABLE = Durables.provisionerFailures;
const API = [
  Subjects.specApply,
  Subjects.specGet,
  Subjects.specList,
  Subjects.specDelete,
  Subjects.replicaLogs,
  Subjects.replicaDown,
];

/** May `user` publish on `subject`? */
function may(user: BusUser, subject: string): boolean {
  const at = (re: RegExp) =>
    re
      .exec(subject)
      ?.slice(1)
      .find((x) => x !== undefined);
  const L = Buckets.leases;
  const lease = at(
    new RegExp(
      `^(?:\\$JS\\.API\\.DIRECT\\.GET\\.KV_${L}\\.|\\$JS\\.API\\.CONSUMER\\.CREATE\\.KV_${L}\\.[^.]+\\.)?\\$KV\\.${L}\\.(.+)$`,
    ),
  );
  if (lease) return lease === user && LEASE_HOLDERS.includes(user);
  const kv = at(/^\$KV\.([^.]+)\./);
  if (kv) return WRITER[kv] === user;
  // Only the spec service creates streams: a creator chooses republish, sources and mirror.
  if (subject.startsWith("$JS.API.STREAM.CREATE.")) return user === "spec";
  const read = at(/^\$JS\.API\.(?:DIRECT\.GET\.KV_([^.]+)|CONSUMER\.CREATE\.KV_([^.]+)\.[^.]+)\.\$KV\./);
  if (read) return READERS[read].includes(user);
  const durable = `${DURABLE.stream}.${DURABLE.name}`;
  // Its own push durable (no MSG.NEXT: nobody pulls), and deleting the pull durable it replaces.
  if (
    subject.startsWith(`$JS.API.CONSUMER.CREATE.${durable}`) ||
    subject.startsWith(`$JS.ACK.${durable}.`) ||
    subject === `$JS.API.CONSUMER.DELETE.${DURABLE.stream}.${DURABLE.replaces}`
  )
    return user === "provisioner";
  // Reading the events: consumers by name filtered inside yard.events, deleted by name; never a
  // durable's name (a create under it would update the durable, a delete drop it).
  const ev = Streams.events.name;
  const own = at(
    new RegExp(
      `^\\$JS\\.API\\.CONSUMER\\.(?:CREATE\\.${ev}\\.([^.]+)\\.yard\\.events\\.|DELETE\\.${ev}\\.([^.]+)$)`,
    ),
  );
  if (own) return own !== DURABLE.name && own !== DURABLE.replaces && EVENT_READERS.includes(user);
  if (subject.startsWith("yard.api.")) return user === "cli";
  if (subject === Subjects.probeHint || subject === Subjects.load) return user === "proxy";
  const event = at(/^yard\.events\.[^.]+\.(.+)$/);
  if (event) return EVENTS[user].includes(event);
  const inbox = at(/^_INBOX_([^.]+)\./);
  if (inbox) return inbox === user || (inbox === "cli" && ANSWERS_CLI.includes(user));
  // Every other JetStream API verb (purge, delete, update, names, ...), the shared `_INBOX.`.
  return false;
}

/** May `user` subscribe to `subject`? */
function mayListen(user: BusUser, subject: string): boolean {
  if (subject === `_INBOX_${user}.>`) return true;
  if (subject === "yard.api.spec.*") return user === "spec";
  if (subject === Subjects.replicaLogs || subject === Subjects.replicaDown) return user === "provisioner";
  if (subject === Subjects.probeHint) return user === "prober";
  // The autoscaler sums the load reports; the provisioner's drains wait on their in-flight counts.
  if (subject === Subjects.load) return user === "autoscaler" || user === "provisioner";
  return false;
}

const KV_STREAMS = Object.values(Buckets).map((b) => `KV_${b}`);
const STREAMS = [...KV_STREAMS, Streams.events.name];

function publishCatalogue(): string[] {
  // yard.metrics.victim: the old per-service report subject, granted to no one now.
  const out = [...API, Subjects.probeHint, Subjects.load, "yard.metrics.victim", "_INBOX.x"];
  out.push(...ALL_EVENTS.map((t) => Subjects.events("victim", t)));
  out.push(...BUS_USERS.map((u) => `_INBOX_${u}.x`));
  for (const b of Object.values(Buckets)) {
    const s = `KV_${b}`;
    out.push(
      `$KV.${b}.victim`,
      `$JS.API.STREAM.CREATE.${s}`,
      `$JS.API.DIRECT.GET.${s}.$KV.${b}.victim`,
      `$JS.API.CONSUMER.CREATE.${s}.atk.$KV.${b}.>`,
      // Consumer creates by other forms: unnamed (ephemeral), unfiltered, legacy durable.
      `$JS.API.CONSUMER.CREATE.${s}`,
      `$JS.API.CONSUMER.CREATE.${s}.atk`,
      `$JS.API.CONSUMER.DURABLE.CREATE.${s}.atk`,
    );
  }
  // Another role's lease: taking or reading it would let two writers act.
  for (const u of LEASE_HOLDERS) {
    const k = `$KV.${Buckets.leases}.${u}`;
    out.push(
      k,
      `$JS.API.DIRECT.GET.KV_${Buckets.leases}.${k}`,
      `$JS.API.CONSUMER.CREATE.KV_${Buckets.leases}.atk.${k}`,
    );
  }
  for (const s of STREAMS)
    out.push(
      ...["PURGE", "DELETE", "UPDATE", "MSG.DELETE", "SNAPSHOT", "RESTORE"].map(
        (v) => `$JS.API.STREAM.${v}.${s}`,
      ),
      `$JS.API.CONSUMER.NAMES.${s}`,
      `$JS.API.CONSUMER.LIST.${s}`,
    );
  const d = `${DURABLE.stream}.${DURABLE.name}`;
  const old = `${DURABLE.stream}.${DURABLE.replaces}`;
  out.push(
    `$JS.API.STREAM.CREATE.${Streams.events.name}`,
    `$JS.API.CONSUMER.CREATE.${old}`,
    `$JS.API.CONSUMER.DELETE.${old}`,
    `$JS.API.CONSUMER.MSG.NEXT.${old}`,
    `$JS.API.CONSUMER.CREATE.${d}`,
    `$JS.API.CONSUMER.CREATE.${d}.yard.events.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${d}`,
    `$JS.API.CONSUMER.CREATE.${Streams.events.name}.atk.yard.events.>`,
    // A reader of the events under a durable's name, or by the other create forms.
    `$JS.API.CONSUMER.CREATE.${old}.yard.events.>`,
    `$JS.API.CONSUMER.CREATE.${Streams.events.name}`,
    `$JS.API.CONSUMER.CREATE.${Streams.events.name}.atk`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${Streams.events.name}.atk`,
    `$JS.API.CONSUMER.DELETE.${Streams.events.name}.atk`,
    `$JS.API.CONSUMER.DELETE.${d}`,
    `$JS.API.CONSUMER.MSG.NEXT.${d}`,
    `$JS.ACK.${d}.1.1.1.1.0`,
    "$JS.API.STREAM.NAMES",
    "$JS.API.STREAM.LIST",
    "$JS.API.ACCOUNT.PURGE.$G",
    "$JS.API.META.LEADER.STEPDOWN",
  );
  return out;
}

const SUBSCRIBE_CATALOGUE = [
  ">",
  "_INBOX.>",
  ...BUS_USERS.map((u) => `_INBOX_${u}.>`),
  "yard.>",
  "yard.api.>",
  "yard.api.spec.*",
  Subjects.replicaLogs,
  Subjects.replicaDown,
  Subjects.probeHint,
  Subjects.load,
  "yard.metrics.>",
  "yard.events.>",
  "$KV.>",
  `$KV.${Buckets.specs}.>`,
  "$JS.>",
  "$JS.API.>",
  "$JS.ACK.>",
  "$JS.EVENT.>",
  "$SYS.>",
];

const refused = /permissions violation/i;
let nats: TestNats;
let spec: Proc;
const conns = {} as Record<BusUser, NatsConnection>;
const logsCalls: unknown[] = [];
let logsApi: { stop(): Promise<void> };
const logsRefusals: object[] = [];
/** The provisioner's `yard down --replica-id` API, as it serves it. */
const downCalls: unknown[] = [];
let downApi: { stop(): Promise<void> };
let specsKv: KV;

/** A request to the JetStream API as `nc`: the JSON answer, or an error naming the API's. */
async function jsApi(nc: NatsConnection, api: string, body: unknown = {}) {
  const m = await nc.request(`$JS.API.${api}`, JSON.stringify(body), { timeout: 5_000 });
  const r = JSON.parse(m.string());
  if (r.error) throw new Error(`JetStream API ${api}: ${r.error.code} ${r.error.description}`);
  return r;
}

/** Every stream's messages and last sequence per subject, and the provisioner's durable. */
async function streamsState() {
  const reader: Record<string, BusUser> = {
    [`KV_${Buckets.specs}`]: "spec",
    [`KV_${Buckets.services}`]: "spec",
    [`KV_${Buckets.replicas}`]: "provisioner",
    [`KV_${Buckets.endpoints}`]: "prober",
    [`KV_${Buckets.leases}`]: "spec",
    [Streams.events.name]: "spec",
  };
  const out: Record<string, unknown> = {};
  for (const [s, u] of Object.entries(reader)) {
    const r = await jsApi(conns[u], `STREAM.INFO.${s}`, { subjects_filter: ">" });
    // The spec service running in this suite renews its lease every second: of yard-leases only
    // the keys are compared (a write by the role under test would add or remove one).
    out[s] =
      s === `KV_${Buckets.leases}`
        ? { keys: Object.keys(r.state.subjects ?? {}).sort() }
        : { messages: r.state.messages, last: r.state.last_seq, subjects: r.state.subjects ?? {} };
  }
  const d = await jsApi(conns.provisioner, `CONSUMER.INFO.${DURABLE.stream}.${DURABLE.name}`);
  out.durable = { name: d.name, filter: d.config.filter_subject, deliver: d.config.deliver_subject ?? null };
  return out;
}

/** A push consumer on `stream` that delivers every record to `deliver`, created as `nc`. */
async function pushConsumer(
  nc: NatsConnection,
  stream: string,
  name: string,
  deliver: string,
  group?: string,
) {
  const b = stream.slice(3);
  return jsApi(nc, `CONSUMER.CREATE.${stream}.${name}.$KV.${b}.>`, {
    stream_name: stream,
    config: {
      name,
      deliver_subject: deliver,
      ...(group ? { deliver_group: group } : {}),
      deliver_policy: "all",
      ack_policy: "none",
      filter_subject: `$KV.${b}.>`,
    },
  });
}

const cliEnv = () => ({ NATS_URL: nats.url, NATS_USER: "cli", NATS_PASS: devPassword("cli") });
const as = (user: BusUser) =>
  connectBus({ url: nats.url, name: `roles-${user}`, user, pass: devPassword(user), logger: silentLogger });
const recorder = (into: object[]): Logger => ({ ...silentLogger, warn: (o: object) => into.push(o) });

beforeAll(async () => {
  for (const u of BUS_USERS) process.env[passwordVar(u)] = devPassword(u);
  nats = await startNats({ config: NATS_CONF_PATH });
  for (const u of BUS_USERS) conns[u] = await as(u);
  spec = startTs("services/spec/src/main.ts", [], {
    NATS_URL: nats.url,
    NATS_USER: "spec",
    NATS_PASS: devPassword("spec"),
    YARD_SPEC_HTTP_PORT: "0",
  });
  await spec.waitForLine(/"msg":"ready"/, 60_000);
  // The victim, published by the real CLI as its own user.
  const dir = mkdtempSync(join(tmpdir(), "yard-roles-"));
  const file = join(dir, "victim.yaml");
  writeFileSync(
    file,
    [
      "name: victim",
      "envs:",
      "  AUTH_TOKEN:",
      "run: echo serving on 8000",
      "resources:",
      "  ports: 8000",
      "service:",
      "  readiness_probe: /v1/models",
      "  replicas: 1",
      "",
    ].join("\n"),
  );
  const up = await run("cli/src/main.ts", ["up", file, "--env", "AUTH_TOKEN=s3cret-token"], cliEnv());
  expect(up.code, up.stdout + up.stderr).toBe(0);
  specsKv = await openBucket(conns.spec, Buckets.specs);
  // The spec service created every stream. The other writers' buckets, each with a record; the
  // provisioner's durable and logs API.
  await putJson(await openBucket(conns.provisioner, Buckets.replicas), "victim.1", { phase: "READY" });
  await putJson(await openBucket(conns.prober, Buckets.endpoints), "victim.1", {
    url: "http://127.0.0.1:1",
  });
  await ensureDurableConsumer(conns.provisioner, durableConsumer());
  logsApi = serve(
    conns.provisioner,
    Subjects.replicaLogs,
    LogsRequest,
    async (r) => {
      logsCalls.push(r);
      throw new YardError("SY_ERR_NOT_FOUND", `no replica of '${r.service}'`);
    },
    recorder(logsRefusals),
  );
  downApi = serve(
    conns.provisioner,
    Subjects.replicaDown,
    ReplicaDownRequest,
    async (r) => {
      downCalls.push(r);
      throw new YardError("SY_ERR_NOT_FOUND", `service ${r.service} has no replica ${r.replica_id}`);
    },
    recorder([]),
  );
  await conns.provisioner.flush();
}, 120_000);

afterAll(async () => {
  await logsApi?.stop();
  await downApi?.stop();
  await spec?.stop();
  for (const nc of Object.values(conns)) await nc?.close();
  await nats?.dispose();
});

function durableConsumer(): DurableConsumer {
  return { ...DURABLE, filterSubject: Subjects.eventsOfType("replica.failed"), ackWaitMs: 3_000 };
}

/** The victim's spec as stored, or null: read as the spec user. */
async function victimSpec(): Promise<string | null> {
  const e = await specsKv.get("victim");
  return e?.operation === "PUT" ? e.string() : null;
}

describe("the push-consumer delete (issue 8's attack)", () => {
  it("the proxy aims a push consumer on yard-services at yard.api.spec.delete: every record is refused, the service stays", async () => {
    const before = await streamsState();
    const stored = await victimSpec();
    expect(stored).toContain('"name":"victim"');
    const services = `KV_${Buckets.services}`;
    const info = await jsApi(conns.proxy, `STREAM.INFO.${services}`);
    const last = info.state.last_seq;
    // Without the spec service's queue group the server has no interest to deliver to ...
    const idle = await pushConsumer(conns.proxy, services, "atk-nogroup", Subjects.specDelete);
    expect(idle.push_bound ?? false).toBe(false);
    // ... with it, it delivers each route record (a `{name: ...}` object) as a delete request.
    const c = await pushConsumer(conns.proxy, services, "atk-delete", Subjects.specDelete, "yard");
    expect(c.push_bound).toBe(true);
    // The spec service refuses the last record (and so each before it: one subscription, in order).
    const ack = new RegExp(`"reply":"\\$JS\\.ACK\\.${services}\\.atk-delete\\.1\\.${last}\\.`);
    const line = await spec.waitForLine(ack, 10_000);
    expect(JSON.parse(line)).toMatchObject({
      event: "bus.request_refused",
      subject: Subjects.specDelete,
      reason: "a JetStream delivery, not a request",
    });
    await jsApi(conns.proxy, `CONSUMER.DELETE.${services}.atk-delete`);
    await jsApi(conns.proxy, `CONSUMER.DELETE.${services}.atk-nogroup`);

    expect(await victimSpec()).toBe(stored);
    expect(await streamsState()).toEqual(before);
    // The CLI still reads it back (and `yard status` lists it), as its own user.
    expect(await call(conns.cli, Subjects.specGet, { name: "victim" })).toMatchObject({ name: "victim" });
    const status = await run("cli/src/main.ts", ["status", "--json"], cliEnv());
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).services.map((s: { name: string }) => s.name)).toEqual(["victim"]);
    // The refusal names no secret.
    expect(spec.lines.join("\n")).not.toContain("s3cret-token");
  });

  it("a delete or list request with a record's extra keys is SY_ERR_BAD_REQUEST naming each key, even from the CLI", async () => {
    const err = await call<never>(conns.cli, Subjects.specDelete, {
      name: "victim",
      policy: {},
      target_qps: 1,
    }).catch((e: YardError) => e);
    expect(err).toBeInstanceOf(YardError);
    expect(err).toMatchObject({ code: "SY_ERR_BAD_REQUEST" });
    expect(err.issues).toEqual(
      expect.arrayContaining([
        { path: "policy", message: "unknown key" },
        { path: "target_qps", message: "unknown key" },
      ]),
    );
    const logs = await call(conns.cli, Subjects.replicaLogs, { service: "victim", follow: true }).catch(
      (e: YardError) => e,
    );
    expect(logs).toMatchObject({ code: "SY_ERR_BAD_REQUEST", issues: [{ path: "follow" }] });
    // The list takes no fields at all (a record delivered there is not a list request either).
    await expect(call(conns.cli, Subjects.specList, { name: "victim" })).rejects.toMatchObject({
      code: "SY_ERR_BAD_REQUEST",
      issues: [{ path: "name", message: "unknown key" }],
    });
    expect(logsCalls).toEqual([]);
    expect(await victimSpec()).toContain('"name":"victim"');
  });
});

describe.each(BUS_USERS)("%s", (user) => {
  it("is refused every publish outside its role; no stream changes", async () => {
    const nc = conns[user];
    const before = await streamsState();
    const foreign = publishCatalogue().filter((s) => !may(user, s));
    expect(foreign.length).toBeGreaterThan(40);
    const let_through: string[] = [];
    for (const s of foreign) {
      const r = await nc.request(s, "{}", { timeout: 2_000 }).then(
        (m) => `answered ${m.headers?.code ?? ""} ${m.string().slice(0, 80)}`,
        (e: Error) => e.message,
      );
      if (!refused.test(r)) let_through.push(`${s}: ${r}`);
    }
    expect(let_through).toEqual([]);
    // A refusal leaves the connection working.
    expect(await jsApi(nc, "INFO")).toHaveProperty("streams");
    expect(await streamsState()).toEqual(before);
  });

  it("is refused every subscription outside its role (other users' inboxes included), and receives nothing", async () => {
    const nc = conns[user];
    const foreign = SUBSCRIBE_CATALOGUE.filter((s) => !mayListen(user, s));
    const subs = foreign.map((s) => nc.subscribe(s));
    // Traffic that each refused subscription would have seen: a CLI request and a KV write.
    await call(conns.cli, Subjects.specGet, { name: "victim" });
    await putJson(await openBucket(conns.prober, Buckets.endpoints), "victim.1", {
      url: "http://127.0.0.1:1",
    });
    for (const [i, sub] of subs.entries()) {
      expect(String(await sub.closed), foreign[i]).toMatch(refused);
      expect(sub.getReceived(), foreign[i]).toBe(0);
    }
  });

  it("cannot write, delete or purge keys of a bucket it reads but does not write", async () => {
    const before = await streamsState();
    const readOnly = [Buckets.specs, Buckets.services, Buckets.replicas, Buckets.endpoints].filter(
      (b) => READERS[b].includes(user) && WRITER[b] !== user,
    );
    for (const b of readOnly) {
      const kv = await openBucket(conns[user], b);
      await expect(putJson(kv, "victim", { evil: true }), b).rejects.toThrow(refused);
      await expect(kv.delete("victim"), b).rejects.toThrow(refused);
      await expect(kv.purge("victim"), b).rejects.toThrow(refused);
    }
    for (const b of [Buckets.specs, Buckets.services].filter((x) => !READERS[x].includes(user)))
      await expect(openBucket(conns[user], b), b).rejects.toThrow(refused);
    expect(await streamsState()).toEqual(before);
  });

  it("can aim a push consumer only where nothing listens, or at an API that refuses JetStream deliveries", async () => {
    const nc = conns[user];
    const before = await streamsState();
    const spec0 = await victimSpec();
    const stream = `KV_${[Buckets.services, Buckets.specs, Buckets.replicas, Buckets.endpoints].find((b) => READERS[b].includes(user))}`;
    const targets = [
      ...Object.values(Buckets).map((b) => `$KV.${b}.victim`),
      ...["replica.failed", "spec.deleted"].map((t) => Subjects.events("victim", t)),
      `$JS.API.STREAM.PURGE.KV_${Buckets.specs}`,
      `$JS.API.STREAM.DELETE.KV_${Buckets.services}`,
      `$JS.API.CONSUMER.DELETE.${DURABLE.stream}.${DURABLE.name}`,
      `$JS.ACK.${DURABLE.stream}.${DURABLE.name}.1.1.1.1.0`,
      ...BUS_USERS.map((u) => `_INBOX_${u}.x`),
      "_INBOX.x",
      Subjects.load,
    ];
    const names: string[] = [];
    for (const [i, t] of targets.entries()) {
      const name = `atk-${user}-${i}`;
      // The server takes any deliver subject (it is in the body, where no grant reaches) but
      // delivers only to a literal subscription: none exists on these subjects.
      const r = await pushConsumer(nc, stream, name, t).catch((e: Error) => e);
      if (r instanceof Error)
        expect(r.message, t).toMatch(/cycle/); // its own stream's subjects
      else {
        names.push(name);
        expect(r.push_bound ?? false, t).toBe(false);
      }
    }
    // The request/reply APIs do have listeners (queue group "yard"): they get each record.
    for (const [i, t] of API.entries()) {
      const name = `atk-${user}-api-${i}`;
      names.push(name);
      expect((await pushConsumer(nc, stream, name, t, "yard")).push_bound, t).toBe(true);
    }
    // Fence: the CLI's own call on each API is answered after the deliveries queued before it.
    await waitDelivered(nc, stream, names);
    await call(conns.cli, Subjects.specList, {});
    await expect(call(conns.cli, Subjects.specGet, { name: "victim" })).resolves.toMatchObject({
      name: "victim",
    });
    await expect(call(conns.cli, Subjects.specDelete, { name: "no-such" })).rejects.toMatchObject({
      code: "SY_ERR_NOT_FOUND",
    });
    await expect(call(conns.cli, Subjects.specApply, {})).rejects.toMatchObject({
      code: "SY_ERR_BAD_REQUEST",
    });
    await expect(call(conns.cli, Subjects.replicaLogs, { service: "no-such" })).rejects.toMatchObject({
      code: "SY_ERR_NOT_FOUND",
    });
    await expect(
      call(conns.cli, Subjects.replicaDown, { service: "no-such", replica_id: 1 }),
    ).rejects.toMatchObject({ code: "SY_ERR_NOT_FOUND" });
    for (const n of names) await jsApi(nc, `CONSUMER.DELETE.${stream}.${n}`);
    expect(downCalls).toEqual([{ service: "no-such", replica_id: 1, purge: false }]);
    downCalls.length = 0;

    expect(logsCalls).toEqual([{ service: "no-such", offset: 0, max_bytes: 256_000 }]);
    logsCalls.length = 0;
    expect(logsRefusals.length).toBeGreaterThan(0);
    expect(await victimSpec()).toBe(spec0);
    expect(await streamsState()).toEqual(before);
  });
});

/** Until each consumer has delivered everything (push consumers deliver at once; this is the fence's start). */
async function waitDelivered(nc: NatsConnection, stream: string, names: string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (const n of names) {
    for (;;) {
      const i = await jsApi(nc, `CONSUMER.INFO.${stream}.${n}`);
      if (!i.push_bound || i.num_pending === 0) break;
      if (Date.now() > deadline) throw new Error(`consumer ${n} still has ${i.num_pending} to deliver`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe("a caller cannot aim an answer at a subject of its choice", () => {
  it("the CLI names stream APIs and KV keys as reply subjects: the services answer nothing there", async () => {
    const before = await streamsState();
    const spec0 = await victimSpec();
    const specReplies = [
      `$JS.API.STREAM.PURGE.KV_${Buckets.specs}`,
      `$JS.API.STREAM.DELETE.KV_${Buckets.services}`,
      `$KV.${Buckets.specs}.evil`,
      `$KV.${Buckets.services}.victim`,
      "_INBOX_proxy.x",
      "_INBOX_spec.x",
    ];
    const seen = spec.lines.length;
    // Two of the replies are inboxes: of a user that may not call (the proxy), of the spec
    // service itself. Each listens there, to see that nothing arrives.
    const inboxes = [conns.proxy.subscribe("_INBOX_proxy.x"), conns.spec.subscribe("_INBOX_spec.x")];
    await Promise.all([conns.proxy.flush(), conns.spec.flush()]);
    for (const reply of specReplies) conns.cli.publish(Subjects.specList, "{}", { reply });
    const logsReplies = [
      `$KV.${Buckets.replicas}.victim.1`,
      `$JS.API.CONSUMER.DELETE.${DURABLE.stream}.${DURABLE.name}`,
    ];
    const logsSeen = logsRefusals.length;
    for (const reply of logsReplies)
      conns.cli.publish(Subjects.replicaLogs, JSON.stringify({ service: "victim" }), { reply });
    // Fence: the CLI's own calls are answered after the messages published before them.
    await call(conns.cli, Subjects.specList, {});
    await expect(call(conns.cli, Subjects.replicaLogs, { service: "no-such" })).rejects.toMatchObject({
      code: "SY_ERR_NOT_FOUND",
    });
    for (const sub of inboxes) expect(sub.getReceived()).toBe(0);
    // Refusals are logged (at most ten a second: a flood must not fill the disk).
    expect(spec.lines.slice(seen).some((l) => l.includes('"event":"bus.request_refused"'))).toBe(true);
    expect(logsRefusals.length).toBeGreaterThan(logsSeen);
    expect(logsCalls).toEqual([{ service: "no-such", offset: 0, max_bytes: 256_000 }]);
    for (const sub of inboxes) sub.unsubscribe();
    logsCalls.length = 0;
    expect(await victimSpec()).toBe(spec0);
    expect(await streamsState()).toEqual(before);
  });

  it("even a responder that did answer could not: a reply grant covers the CLI's inbox, not the subject a request names", async () => {
    const before = await streamsState();
    // A raw responder as the spec user (no libs/bus checks) answers whatever reply it is given.
    const sub = conns.spec.subscribe(Subjects.specGet, {
      callback: (_e, m) => {
        m.respond("{}");
      },
    });
    await conns.spec.flush();
    conns.cli.publish(Subjects.specGet, JSON.stringify({ name: "victim" }), {
      reply: `$JS.API.STREAM.PURGE.KV_${Buckets.specs}`,
    });
    // Its answer to the CLI's inbox goes through; the purge was refused by the server.
    await expect(
      conns.cli.request(Subjects.specGet, JSON.stringify({ name: "victim" })),
    ).resolves.toBeDefined();
    sub.unsubscribe();
    expect(await streamsState()).toEqual(before);
  });
});

describe("the provisioner's replica.failed verdicts: a push durable delivering into its own inbox", () => {
  it("a reader's push consumers aimed at the durable's pull-request subject and at its deliver subject neither hold a verdict back nor pass for one", async () => {
    const services = `KV_${Buckets.services}`;
    // A pull consumer's request subject is one the server listens on: each record would become
    // a pull request answered to the attacker's ack subject. The durable is a push consumer now:
    // a pull request to it takes nothing.
    await pushConsumer(
      conns.proxy,
      services,
      "atk-next",
      `$JS.API.CONSUMER.MSG.NEXT.${DURABLE.stream}.${DURABLE.name}`,
    );
    // Its deliver subject, in its queue group: the provisioner listens there, so these arrive.
    await pushConsumer(conns.proxy, services, "atk-forge", DURABLE.deliverSubject, DURABLE.deliverGroup);
    const values: YardEvent[] = [];
    const warned: Record<string, unknown>[] = [];
    const message = `probe failed ${process.pid}`;
    let got!: () => void;
    const received = new Promise<void>((r) => {
      got = r;
    });
    const reader = await consumeDurable(
      conns.provisioner,
      durableConsumer(),
      YardEvent,
      (ev) => {
        values.push(ev);
        if (ev.type === "replica.failed" && ev.message === message) got();
      },
      recorder(warned),
    );
    try {
      // The provisioner listens there now: the forging consumer delivers (the server notes the
      // new interest asynchronously, so ask until it has).
      await expect
        .poll(async () => (await jsApi(conns.proxy, `CONSUMER.INFO.${services}.atk-forge`)).push_bound)
        .toBe(true);
      const verdict: YardEvent = {
        schema: 1,
        type: "replica.failed",
        service: "victim",
        replica_id: 1,
        revision: 1,
        at: new Date().toISOString(),
        reason: "ProbeFailing",
        phase: "FAILED_PROBING",
        message,
      };
      await jetstream(conns.prober).publish(
        Subjects.events("victim", "replica.failed"),
        JSON.stringify(verdict),
      );
      // A verdict arrives in milliseconds; a stolen delivery would cost an ack wait (3 s) each.
      await Promise.race([
        received,
        new Promise((_, reject) => setTimeout(() => reject(new Error("verdict held back")), 2_000)),
      ]);
      // Each record of the forging consumer was dropped unread, logged with its ack subject.
      await waitDelivered(conns.proxy, services, ["atk-forge"]);
      await expect.poll(() => warned.length).toBeGreaterThan(0);
      for (const w of warned)
        expect(w).toMatchObject({
          event: "bus.delivery_refused",
          reply: expect.stringMatching(new RegExp(`^\\$JS\\.ACK\\.${services}\\.atk-forge\\.`)),
        });
      expect(values.map((v) => v.type)).toEqual(["replica.failed"]);
    } finally {
      await reader.stop();
      for (const n of ["atk-next", "atk-forge"]) await jsApi(conns.proxy, `CONSUMER.DELETE.${services}.${n}`);
    }
  });
});

describe("probe hints: plain publishes of the proxy only", () => {
  it("a reader's push consumer aimed at yard.hint.probe delivers endpoint records (hint-shaped): none is taken, the proxy's own hint is", async () => {
    const endpoints = `KV_${Buckets.endpoints}`;
    // An endpoint record has a hint's service, replica_id and url: with a lax schema and no
    // check of how it came, each ready replica would be probed again, as often as a reader likes.
    await putJson(await openBucket(conns.prober, Buckets.endpoints), "victim.1", {
      schema: 1,
      service: "victim",
      replica_id: 1,
      url: "http://127.0.0.1:1",
      revision: 1,
      accelerator: null,
      ready_at: new Date().toISOString(),
    });
    const hints: ProbeHint[] = [];
    const warned: Record<string, unknown>[] = [];
    const listener = listen(
      conns.prober,
      Subjects.probeHint,
      ProbeHint,
      (h) => hints.push(h),
      recorder(warned),
      "probe hint",
    );
    try {
      await conns.prober.flush();
      const c = await pushConsumer(conns.proxy, endpoints, "atk-hint", Subjects.probeHint);
      expect(c.push_bound).toBe(true);
      await waitDelivered(conns.proxy, endpoints, ["atk-hint"]);
      // Fence: the proxy's own hint, published after the deliveries, on the same subscription.
      const hint = { schema: 1, service: "victim", replica_id: 2, url: "http://127.0.0.1:2" };
      conns.proxy.publish(Subjects.probeHint, JSON.stringify(hint));
      await expect.poll(() => hints.length).toBe(1);
      expect(hints).toEqual([hint]);
      expect(warned.length).toBeGreaterThan(0);
      for (const w of warned)
        expect(w).toMatchObject({
          event: "bus.message_refused",
          reason: "a JetStream delivery, not a published message",
        });
      // A hint with a record's extra keys is not a hint (ProbeHint is strict).
      conns.proxy.publish(Subjects.probeHint, JSON.stringify({ ...hint, replica_id: 3, revision: 1 }));
      conns.proxy.publish(Subjects.probeHint, JSON.stringify({ ...hint, replica_id: 4 }));
      await expect.poll(() => hints.length).toBe(2);
      expect(hints.map((h) => h.replica_id)).toEqual([2, 4]);
    } finally {
      listener.stop();
      await jsApi(conns.proxy, `CONSUMER.DELETE.${endpoints}.atk-hint`);
    }
  });
});

describe("streams are created by the spec service alone", () => {
  it("on an empty store an event publisher cannot create the events stream (with a republish into yard-specs) nor a bucket; the spec's streams republish nothing", async () => {
    const fresh = await startNats({ config: NATS_CONF_PATH });
    const c = {} as Record<BusUser, NatsConnection>;
    try {
      for (const u of ["spec", "provisioner", "prober"] as const)
        c[u] = await connectBus({
          url: fresh.url,
          name: `fresh-${u}`,
          user: u,
          pass: devPassword(u),
          logger: silentLogger,
        });
      const evil = {
        name: Streams.events.name,
        subjects: [...Streams.events.subjects],
        republish: { src: "yard.events.*.replica.ready", dest: `$KV.${Buckets.specs}.{{wildcard(1)}}` },
      };
      await expect(jsApi(c.prober, `STREAM.CREATE.${Streams.events.name}`, evil)).rejects.toThrow(refused);
      await expect(jsApi(c.provisioner, `STREAM.CREATE.${Streams.events.name}`, evil)).rejects.toThrow(
        refused,
      );
      await expect(createBucket(c.provisioner, Buckets.replicas)).rejects.toThrow(refused);
      await expect(createBucket(c.prober, Buckets.endpoints)).rejects.toThrow(refused);
      // What the spec service does at start (openSpecStore); the others bind.
      await createYardStreams(c.spec);
      const specs = await openBucket(c.spec, Buckets.specs);
      await putJson(specs, "victim", { name: "victim" });
      await putJson(await openBucket(c.provisioner, Buckets.replicas), "victim.1", { phase: "READY" });
      await waitForEventsStream(c.prober);
      await jetstream(c.prober).publish(
        Subjects.events("victim", "replica.ready"),
        JSON.stringify({ evil: true }),
      );
      expect((await specs.get("victim"))?.string()).toBe(JSON.stringify({ name: "victim" }));
    } finally {
      for (const x of Object.values(c)) await x.close();
      await fresh.dispose();
    }
  });

  it("a store where the events stream was made with a republish (by an older version) stops the spec service at start, naming the stream and what to do", async () => {
    // Without authorization: any client could, as every event publisher once could.
    const old = await startNats();
    const nc = await connectBus({ url: old.url, name: "old-prober", logger: silentLogger });
    try {
      await jsApi(nc, `STREAM.CREATE.${Streams.events.name}`, {
        name: Streams.events.name,
        subjects: [...Streams.events.subjects],
        republish: { src: "yard.events.*.replica.ready", dest: `$KV.${Buckets.specs}.{{wildcard(1)}}` },
      });
      const p = startTs("services/spec/src/main.ts", [], { NATS_URL: old.url, YARD_SPEC_HTTP_PORT: "0" });
      expect(await p.exited).toBe(1);
      const line = p.lines.find((l) => l.includes("failed to start"));
      expect(line).toContain(`stream ${Streams.events.name} exists with republish`);
      expect(line).toContain(`nats stream rm ${Streams.events.name}`);
    } finally {
      await nc.close();
      await old.dispose();
    }
  });
});
