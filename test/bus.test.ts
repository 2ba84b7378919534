// libs/bus integration tests. They live here, not in libs/bus/test, because they use
// @switchyard/testkit, which depends on @switchyard/bus: a dev dependency of bus on testkit
// made the two a cyclic workspace dependency.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  call,
  connectBus,
  connectServiceBus,
  consumeDurable,
  countEvents,
  createBucket,
  type DurableConsumer,
  ensureEventsStream,
  jetstream,
  type Logger,
  listen,
  type NatsConnection,
  readAll,
  serve,
  silentLogger,
  tryOpenBucket,
  type WatchChange,
  watchBucket,
} from "@switchyard/bus";
import { Buckets, Durables, Subjects, YardError } from "@switchyard/contracts";
import { startNats, type TestNats } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";

let nats: TestNats;
let nc: NatsConnection;
beforeAll(async () => {
  nats = await startNats();
  nc = await connectBus({ url: nats.url, name: "bus-test", logger: silentLogger });
});
afterAll(async () => {
  await nc?.close();
  await nats?.dispose();
});

const Val = z.object({ n: z.number() });

describe("watchBucket", () => {
  it("delivers the snapshot, then updates and deletes, skipping malformed values", async () => {
    const kv = await createBucket(nc, Buckets.scale);
    await kv.put("a", JSON.stringify({ n: 1 }));
    await kv.put("bad", "{not json");
    await kv.put("b", JSON.stringify({ n: 2 }));
    const warned: object[] = [];
    const logger = { ...silentLogger, warn: (o: object) => warned.push(o) };
    const seen: WatchChange<{ n: number }>[] = [];
    let onUpdate: () => void = () => {};
    const w = watchBucket(
      kv,
      Val,
      (c) => {
        seen.push(c);
        onUpdate();
      },
      logger,
    );
    await w.ready;
    expect(seen.map((c) => [c.key, c.op, c.initial])).toEqual([
      ["a", "put", true],
      ["b", "put", true],
    ]);
    expect(warned).toHaveLength(1);
    const updated = new Promise<void>((r) => {
      onUpdate = () => seen.length === 4 && r();
    });
    await kv.put("a", JSON.stringify({ n: 3 }));
    await kv.delete("b");
    await updated;
    expect(seen.slice(2).map((c) => [c.key, c.op, c.initial])).toEqual([
      ["a", "put", false],
      ["b", "del", false],
    ]);
    expect(w.revision()).toBeGreaterThan(3);
    w.stop();
  });

  it("is ready at once on an empty bucket", async () => {
    const kv = await createBucket(nc, Buckets.endpoints);
    const w = watchBucket(kv, Val, () => {}, silentLogger);
    await w.ready;
    expect(w.revision()).toBe(0);
    w.stop();
  });
});

describe("tryOpenBucket and readAll", () => {
  it("answer null and [] for a bucket nobody created, without creating it", async () => {
    expect(await tryOpenBucket(nc, Buckets.replicas)).toBeNull();
    expect(await readAll(nc, Buckets.replicas, Val)).toEqual([]);
    expect(await tryOpenBucket(nc, Buckets.replicas)).toBeNull();
  });

  it("read every valid value in key order, skipping malformed ones", async () => {
    const kv = await createBucket(nc, Buckets.specs);
    await kv.put("b", JSON.stringify({ n: 2 }));
    await kv.put("bad", "{not json");
    await kv.put("a", JSON.stringify({ n: 1 }));
    await kv.put("gone", JSON.stringify({ n: 9 }));
    await kv.delete("gone");
    expect(await tryOpenBucket(nc, Buckets.specs)).not.toBeNull();
    expect(await readAll(nc, Buckets.specs, Val)).toEqual([{ n: 1 }, { n: 2 }]);
  });
});

describe("events", () => {
  it("counts one service's events of one type in the stream", async () => {
    await ensureEventsStream(nc);
    const js = jetstream(nc);
    const emit = (service: string, type: string) => js.publish(Subjects.events(service, type), "{}");
    expect(await countEvents(nc, "alpha", "spec.applied")).toBe(0);
    await emit("alpha", "spec.applied");
    await emit("alpha", "spec.applied");
    await emit("alpha", "spec.deleted");
    await emit("beta", "spec.applied");
    expect(await countEvents(nc, "alpha", "spec.applied")).toBe(2);
    expect(await countEvents(nc, "beta", "spec.applied")).toBe(1);
  });
});

describe("durable consumers", () => {
  const failed: DurableConsumer = {
    ...Durables.provisionerFailures,
    filterSubject: Subjects.eventsOfType("replica.failed"),
    ackWaitMs: 3_000,
  };
  /** A pull durable, as versions before the push durable made it. */
  const pullDurable = (name: string) =>
    nc.request(
      `$JS.API.CONSUMER.CREATE.${failed.stream}.${name}.${failed.filterSubject}`,
      JSON.stringify({
        stream_name: failed.stream,
        config: { durable_name: name, ack_policy: "explicit", filter_subject: failed.filterSubject },
      }),
    );
  const consumerNames = async () => {
    const r = JSON.parse((await nc.request(`$JS.API.CONSUMER.NAMES.${failed.stream}`, "{}")).string());
    return (r.consumers as string[]).sort();
  };

  it("a store with the earlier pull durable: it is deleted, the push durable takes over and delivers", async () => {
    await ensureEventsStream(nc);
    await pullDurable(failed.replaces!);
    expect(await consumerNames()).toEqual([failed.replaces]);
    const infos: unknown[] = [];
    const values: unknown[] = [];
    let got!: () => void;
    const delivered = new Promise<void>((r) => {
      got = r;
    });
    const reader = await consumeDurable(
      nc,
      failed,
      z.object({ n: z.number() }),
      (v) => {
        values.push(v);
        got();
      },
      { ...silentLogger, info: (o: unknown) => infos.push(o) },
    );
    try {
      expect(await consumerNames()).toEqual([failed.name]);
      expect(infos).toContainEqual({ consumer: failed.replaces, stream: failed.stream });
      await jetstream(nc).publish(Subjects.events("svc", "replica.failed"), JSON.stringify({ n: 1 }));
      await delivered;
      expect(values).toEqual([{ n: 1 }]);
    } finally {
      await reader.stop();
    }
  });

  it("a durable of that name that delivers elsewhere (a pull consumer) is an error naming it", async () => {
    await ensureEventsStream(nc);
    const other = { ...failed, name: "pull-here", replaces: undefined };
    await pullDurable(other.name);
    await expect(consumeDurable(nc, other, z.unknown(), () => {}, silentLogger)).rejects.toThrow(
      `consumer ${failed.stream}/pull-here delivers to nobody (a pull consumer), not ${failed.deliverSubject}`,
    );
  });
});

describe("stream configs", () => {
  it("an existing stream that republishes is refused, naming the stream, the field and what to do", async () => {
    const name = `KV_${Buckets.tls}`;
    const made = await nc.request(
      `$JS.API.STREAM.CREATE.${name}`,
      JSON.stringify({
        name,
        subjects: [`$KV.${Buckets.tls}.>`],
        republish: { src: `$KV.${Buckets.tls}.>`, dest: "elsewhere.>" },
      }),
    );
    expect(JSON.parse(made.string())).not.toHaveProperty("error");
    await expect(createBucket(nc, Buckets.tls)).rejects.toThrow(
      `stream ${name} exists with republish, which Switchyard never sets: it was not created by the spec service. Remove it (nats stream rm ${name}) and start again.`,
    );
  });
});

describe("listen", () => {
  it("a flood of malformed messages is skipped with at most 10 warnings a second, each saying how many it held back; good ones still arrive", async () => {
    const warned: Record<string, unknown>[] = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (o: object) => warned.push(o as Record<string, unknown>),
    };
    const got: { n: number }[] = [];
    const l = listen(nc, "t.flood", Val, (v) => got.push(v), logger, "flood value");
    try {
      await nc.flush();
      const t0 = Date.now();
      for (let i = 0; i < 500; i++) nc.publish("t.flood", JSON.stringify({ n: "not a number" }));
      nc.publish("t.flood", JSON.stringify({ n: 1 }));
      await expect.poll(() => got).toEqual([{ n: 1 }]);
      const seconds = Math.ceil((Date.now() - t0) / 1000);
      expect(warned.length).toBeGreaterThan(0);
      expect(warned.length).toBeLessThanOrEqual(10 * seconds);
      expect(warned[0]).toMatchObject({ subject: "t.flood", heldBack: 0 });
      // The first warning of a later window says how many of the flood were held back (one more
      // malformed message per poll, until a window has passed).
      await expect
        .poll(
          () => {
            nc.publish("t.flood", "{}");
            return Number(warned.at(-1)?.heldBack ?? 0);
          },
          { timeout: 5_000, interval: 50 },
        )
        .toBeGreaterThan(400);
    } finally {
      l.stop();
    }
  });
});

describe("request/reply", () => {
  it("validates requests and carries YardErrors with their code", async () => {
    const s = serve(
      nc,
      "t.echo",
      z.object({ x: z.number() }),
      async (r) => {
        if (r.x < 0) throw new YardError("SY_ERR_NOT_FOUND", "negative");
        return { y: r.x * 2 };
      },
      silentLogger,
    );
    await expect(call(nc, "t.echo", { x: 2 })).resolves.toEqual({ y: 4 });
    await expect(call(nc, "t.echo", { x: -1 })).rejects.toMatchObject({ code: "SY_ERR_NOT_FOUND" });
    await expect(call(nc, "t.echo", { x: "no" })).rejects.toMatchObject({
      code: "SY_ERR_BAD_REQUEST",
      issues: [{ path: "x" }],
    });
    await expect(call(nc, "t.nobody", {}, 2000)).rejects.toMatchObject({ code: "SY_ERR_NO_RESPONDER" });
    await s.stop();
  });

  it("an answer over max_payload is SY_ERR_TOO_LARGE, and the service goes on answering", async () => {
    const max = nc.info!.max_payload;
    const s = serve(
      nc,
      "t.big",
      z.object({ n: z.number() }),
      async (r) => ({ blob: "x".repeat(r.n) }),
      silentLogger,
    );
    await expect(call(nc, "t.big", { n: max + 1 })).rejects.toMatchObject({
      code: "SY_ERR_TOO_LARGE",
      message: expect.stringContaining("max_payload"),
    });
    await expect(call(nc, "t.big", { n: 3 })).resolves.toEqual({ blob: "xxx" });
    await s.stop();
  });

  it("names the URL when NATS cannot be reached", async () => {
    await expect(
      connectBus({ url: "nats://127.0.0.1:1", name: "x", logger: silentLogger, timeoutMs: 1000 }),
    ).rejects.toMatchObject({
      code: "SY_ERR_BUS_UNREACHABLE",
      message: expect.stringContaining("127.0.0.1:1"),
    });
  });

  it("a service's connection rejects on bad credentials, naming the URL but not the password", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bus-auth-"));
    const conf = join(dir, "auth.conf");
    writeFileSync(conf, 'authorization { user: "yard", password: "right-one" }\n');
    const guarded = await startNats({ config: conf });
    try {
      const err = await connectServiceBus(
        { NATS_URL: guarded.url, NATS_USER: "yard", NATS_PASS: "hunter2-secret" },
        "bus-test-svc",
        silentLogger,
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(YardError);
      expect(err).toMatchObject({ code: "SY_ERR_BUS_UNREACHABLE" });
      expect((err as Error).message).toContain(`cannot reach NATS at ${guarded.url}`);
      expect((err as Error).message).not.toContain("hunter2-secret");
    } finally {
      await guarded.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
