import { execFileSync } from "node:child_process";
import {
  connectBus,
  createBucket,
  getJson,
  type NatsConnection,
  openBucket,
  putJson,
  silentLogger,
} from "@switchyard/bus";
import { Buckets } from "@switchyard/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { dockerSkipReason, NATS_TEST_IMAGE, startNats, type TestNats } from "../src/nats-server.js";

/**
 * startNats in container mode (what a machine without the nats-server binary gets): a
 * testcontainers container of NATS_TEST_IMAGE on host networking, bound to 127.0.0.1.
 * Skips, saying why, where no Docker engine answers or the image is missing (`pnpm images`).
 */
const skip = await dockerSkipReason([NATS_TEST_IMAGE]);
if (skip) console.warn(`skipping the test kit's container NATS: ${skip}`);

const ours = () =>
  execFileSync("docker", ["ps", "-aq", "--filter", "label=org.switchyard.testkit=nats"], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);

describe.skipIf(skip)(`startNats in container mode (${NATS_TEST_IMAGE})`, () => {
  let nats: TestNats;
  let nc: NatsConnection | undefined;
  const before = new Set<string>();
  beforeAll(async () => {
    for (const id of ours()) before.add(id);
    process.env.NATS_TEST_MODE = "container";
    nats = await startNats();
  });
  afterAll(async () => {
    delete process.env.NATS_TEST_MODE;
    await nc?.close();
    await nats?.dispose();
  });

  it("serves JetStream on a 127.0.0.1 port, and a restart keeps the port and the store", async () => {
    expect(nats.mode).toBe("container");
    expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
    nc = await connectBus({ url: nats.url, name: "container-test", logger: silentLogger });
    const kv = await createBucket(nc, Buckets.specs);
    await putJson(kv, "svc", { kept: true });
    await nc.close();
    await nats.restart();
    nc = await connectBus({ url: nats.url, name: "container-test-2", logger: silentLogger });
    const again = await openBucket(nc, Buckets.specs);
    expect((await getJson(again, "svc", z.object({ kept: z.boolean() })))?.value).toEqual({ kept: true });
  });

  it("dispose removes its container", async () => {
    const mine = ours().filter((id) => !before.has(id));
    expect(mine).toHaveLength(1);
    await nc?.close();
    nc = undefined;
    await nats.dispose();
    expect(ours().filter((id) => !before.has(id))).toEqual([]);
  });
});
