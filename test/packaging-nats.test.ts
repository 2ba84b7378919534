import { readFileSync } from "node:fs";
import {
  call,
  campaign,
  connectBus,
  consumeDurable,
  createYardStreams,
  getJson,
  jetstream,
  type KV,
  type NatsConnection,
  openBucket,
  openLeaseBucket,
  publishEvent,
  putJson,
  serve,
  silentLogger,
  waitForEventsStream,
  watchBucket,
} from "@switchyard/bus";
import {
  Buckets,
  BusAccessByUser,
  type BusUser,
  Durables,
  leaseKey,
  Subjects,
  type YardEvent,
} from "@switchyard/contracts";
import { startNats, type TestNats } from "@switchyard/testkit";
import { BUS_USERS, devPassword, NATS_CONF_PATH, passwordVar, renderNatsConf } from "@switchyard/up";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";

/**
 * deploy/nats/yard.conf on a real nats-server 2.9.10: each user runs the bus operations its
 * service runs (through libs/bus, as the services do) and is refused what it must not do.
 */
let nats: TestNats;
const conns = {} as Record<BusUser, NatsConnection>;
const Any = z.unknown();
const at = new Date().toISOString();

beforeAll(async () => {
  for (const u of BUS_USERS) process.env[passwordVar(u)] = devPassword(u);
  nats = await startNats({ config: NATS_CONF_PATH });
  for (const u of BUS_USERS) {
    conns[u] = await connectBus({
      url: nats.url,
      name: `perm-${u}`,
      user: u,
      pass: devPassword(u),
      logger: silentLogger,
    });
  }
});
afterAll(async () => {
  for (const nc of Object.values(conns)) await nc.close();
  await nats?.dispose();
});

/** Resolves with the next value the watch delivers after the snapshot, for `key`. */
function nextPut(kv: KV, key: string): { ready: Promise<void>; value: Promise<unknown> } {
  let resolve!: (v: unknown) => void;
  const value = new Promise((r) => {
    resolve = r;
  });
  const w = watchBucket(
    kv,
    Any,
    (c) => {
      if (c.op === "put" && c.key === key && !c.initial) {
        w.stop();
        resolve(c.value);
      }
    },
    silentLogger,
  );
  return { ready: w.ready, value };
}

const refused = /permissions violation/i;

describe("deploy/nats/yard.conf", () => {
  it("is the config generated from the contracts' access table", () => {
    expect(readFileSync(NATS_CONF_PATH, "utf8")).toBe(renderNatsConf());
  });

  it("refuses a wrong password", async () => {
    await expect(
      connectBus({ url: nats.url, name: "x", user: "proxy", pass: "nope", logger: silentLogger }),
    ).rejects.toThrow(/authorization/i);
  });

  it("spec: creates every stream, writes yard-specs and yard-services, publishes spec events, answers the spec API", async () => {
    const nc = conns.spec;
    const kvs = await createYardStreams(nc);
    const [specs, services] = [kvs[Buckets.specs], kvs[Buckets.services]];
    await putJson(specs, "llm", { token: "s3cret" });
    await putJson(services, "llm", { name: "llm" });
    expect((await getJson(specs, "llm", Any))?.value).toEqual({ token: "s3cret" });
    const w = nextPut(specs, "llm");
    await w.ready;
    await putJson(specs, "llm", { token: "t2" });
    expect(await w.value).toEqual({ token: "t2" });
    await specs.delete("gone");
    await publishEvent(jetstream(nc), {
      schema: 1,
      type: "spec.published",
      service: "llm",
      at,
      revision: 1,
    } as YardEvent);
    const api = serve(nc, Subjects.specGet, Any, async () => ({ name: "llm" }), silentLogger);
    await nc.flush();
    expect(await call(conns.cli, Subjects.specGet, { name: "llm" })).toEqual({ name: "llm" });
    await api.stop();
  });

  it("provisioner: reads specs and endpoints, writes replicas, consumes replica.failed durably, serves logs", async () => {
    const nc = conns.provisioner;
    const replicas = await openBucket(nc, Buckets.replicas);
    await putJson(replicas, "llm.1", { phase: "STARTING" });
    const specs = await openBucket(nc, Buckets.specs);
    const endpoints = await openBucket(nc, Buckets.endpoints);
    expect((await getJson(specs, "llm", Any))?.value).toEqual({ token: "t2" });
    const w = nextPut(endpoints, "llm.1");
    await w.ready;
    await putJson(await openBucket(conns.prober, Buckets.endpoints), "llm.1", { url: "u" });
    expect(await w.value).toEqual({ url: "u" });

    await waitForEventsStream(nc);
    // The provisioner's durable, read as the provisioner reads it (libs/bus consumeDurable).
    const { stream, name } = Durables.provisionerFailures;
    let delivered!: (subject: string) => void;
    const subject = new Promise<string>((r) => {
      delivered = r;
    });
    const reader = await consumeDurable(
      nc,
      {
        ...Durables.provisionerFailures,
        filterSubject: Subjects.eventsOfType("replica.failed"),
        ackWaitMs: 3_000,
      },
      Any,
      (_v, s) => delivered(s),
      silentLogger,
    );
    await publishEvent(jetstream(conns.prober), {
      schema: 1,
      type: "replica.failed",
      service: "llm",
      replica_id: 1,
      at,
    } as unknown as YardEvent);
    expect(await subject).toBe("yard.events.llm.replica.failed");
    await reader.stop();
    await nc.flush(); // the ack is on its way before the server is asked
    const info = JSON.parse((await nc.request(`$JS.API.CONSUMER.INFO.${stream}.${name}`)).string());
    expect(info).toMatchObject({ num_ack_pending: 0, ack_floor: { consumer_seq: 1 } });
    await publishEvent(jetstream(nc), {
      schema: 1,
      type: "replica.launched",
      service: "llm",
      replica_id: 1,
      at,
      url: null,
    } as unknown as YardEvent);

    const logs = serve(nc, Subjects.replicaLogs, Any, async () => ({ data: "hello" }), silentLogger);
    await nc.flush();
    expect(await call(conns.cli, Subjects.replicaLogs, {})).toEqual({ data: "hello" });
    await logs.stop();
  });

  it("prober: writes endpoints, reads replicas and specs, takes probe hints, publishes replica events", async () => {
    const nc = conns.prober;
    const endpoints = await openBucket(nc, Buckets.endpoints);
    await putJson(endpoints, "llm.2", { url: "u2" });
    await endpoints.delete("llm.2");
    const replicas = await openBucket(nc, Buckets.replicas);
    const specs = await openBucket(nc, Buckets.specs);
    expect((await getJson(specs, "llm", Any))?.value).toEqual({ token: "t2" });
    const w = nextPut(replicas, "llm.1");
    await w.ready;
    await putJson(await openBucket(conns.provisioner, Buckets.replicas), "llm.1", { phase: "READY" });
    expect(await w.value).toEqual({ phase: "READY" });

    const hint = new Promise<string>((resolve) => {
      nc.subscribe(Subjects.probeHint, { max: 1, callback: (_e, m) => resolve(m.string()) });
    });
    await nc.flush();
    conns.proxy.publish(Subjects.probeHint, "h");
    expect(await hint).toBe("h");
    await waitForEventsStream(nc);
    await publishEvent(jetstream(nc), {
      schema: 1,
      type: "replica.ready",
      service: "llm",
      replica_id: 1,
      at,
      url: "u",
    } as unknown as YardEvent);
  });

  it("proxy: reads yard-endpoints and yard-services and publishes load reports", async () => {
    const nc = conns.proxy;
    const endpoints = await openBucket(nc, Buckets.endpoints);
    const services = await openBucket(nc, Buckets.services);
    expect((await getJson(services, "llm", Any))?.value).toEqual({ name: "llm" });
    const w = nextPut(endpoints, "llm.3");
    await w.ready;
    await putJson(await openBucket(conns.prober, Buckets.endpoints), "llm.3", { url: "u3" });
    expect(await w.value).toEqual({ url: "u3" });
    nc.publish(Subjects.load, "{}");
    await nc.flush();
  });

  it("proxy is refused on yard-specs (open, get, watch, keys) and on every KV write", async () => {
    const nc = conns.proxy;
    await expect(openBucket(nc, Buckets.specs)).rejects.toThrow(refused);
    // Even a client bound without the stream lookup gets no read through: what it would send
    // for a get (direct or not), and for a watch or keys (an ordered consumer).
    const s = `KV_${Buckets.specs}`;
    const ask = (subject: string, body: unknown = {}) => nc.request(subject, JSON.stringify(body));
    await expect(ask(`$JS.API.DIRECT.GET.${s}.$KV.${Buckets.specs}.llm`)).rejects.toThrow(refused);
    await expect(
      ask(`$JS.API.STREAM.MSG.GET.${s}`, { last_by_subj: `$KV.${Buckets.specs}.llm` }),
    ).rejects.toThrow(refused);
    await expect(
      ask(`$JS.API.CONSUMER.CREATE.${s}.w.$KV.${Buckets.specs}.>`, {
        stream_name: s,
        config: { name: "w", deliver_subject: "_INBOX_proxy.w", filter_subject: `$KV.${Buckets.specs}.>` },
      }),
    ).rejects.toThrow(refused);
    // Writes: JetStream publishes into any bucket are refused.
    const js = jetstream(nc);
    for (const b of Object.values(Buckets)) {
      await expect(js.publish(`$KV.${b}.llm`, "{}")).rejects.toThrow(refused);
    }
    await expect(ask("$JS.API.STREAM.CREATE.KV_yard-new")).rejects.toThrow(refused);
  });

  it("proxy cannot listen on other users' inboxes, where their yard-specs deliveries arrive", async () => {
    // The spec service watches yard-specs: its deliveries (tokens included) go to its inboxes.
    const specs = await openBucket(conns.spec, Buckets.specs);
    const delivered = nextPut(specs, "llm");
    await delivered.ready;
    const sniffers = ["_INBOX.>", "_INBOX_spec.>", ">"].map((s) => conns.proxy.subscribe(s));
    await putJson(specs, "llm", { token: "sniffed?" });
    expect(await delivered.value).toEqual({ token: "sniffed?" });
    for (const sub of sniffers) {
      expect(String(await sub.closed)).toMatch(refused);
      expect(sub.getReceived()).toBe(0);
    }
    // The refusals leave the proxy's connection working.
    const services = await openBucket(conns.proxy, Buckets.services);
    expect((await getJson(services, "llm", Any))?.value).toEqual({ name: "llm" });
  });

  it("cli: calls the APIs and reads replicas and endpoints; yard-specs is refused", async () => {
    const nc = conns.cli;
    const replicas = await openBucket(nc, Buckets.replicas);
    expect((await getJson(replicas, "llm.1", Any))?.value).toEqual({ phase: "READY" });
    const endpoints = await openBucket(nc, Buckets.endpoints);
    const keys: string[] = [];
    for await (const k of await endpoints.keys()) keys.push(k);
    expect(keys).toContain("llm.3");
    await expect(openBucket(nc, Buckets.specs)).rejects.toThrow(refused);
    await expect(jetstream(nc).publish(`$KV.${Buckets.replicas}.x`, "{}")).rejects.toThrow(refused);
  });

  it.each(BUS_USERS.filter((u) => BusAccessByUser[u].lease))(
    "%s: takes, renews, watches and releases its own lease; another role's lease key is refused",
    async (user) => {
      const nc = conns[user];
      const kv = await openLeaseBucket(nc);
      const events: string[] = [];
      let elected!: () => void;
      const won = new Promise<void>((r) => {
        elected = r;
      });
      const lease = campaign(
        { kv, key: leaseKey(user), ttlMs: 1_000, renewMs: 100, logger: silentLogger },
        {
          elected: () => {
            events.push("elected");
            elected();
          },
          lost: (why) => events.push(why),
        },
      );
      await won;
      // Two renewals land (updates with the expected revision), seen through the watch.
      const first = lease.revision();
      const w = await kv.watch({ key: leaseKey(user), resumeFromRevision: first + 1 });
      let renewals = 0;
      for await (const e of w) if (e.operation === "PUT" && ++renewals === 2) break;
      expect(lease.held()).toBe(true);
      await lease.release();
      expect((await kv.get(leaseKey(user)))?.operation).toBe("DEL");
      expect(events).toEqual(["elected"]);
      const other = BUS_USERS.find((u) => u !== user && BusAccessByUser[u].lease)!;
      await expect(kv.put(leaseKey(other), "{}")).rejects.toThrow(refused);
      await expect(kv.get(leaseKey(other))).rejects.toThrow(refused);
    },
  );
});
