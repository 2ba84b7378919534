import {
  connectBus,
  getJson,
  type NatsConnection,
  NO_FENCE,
  openBucket,
  silentLogger,
} from "@switchyard/bus";
import { Buckets, ServiceRoute } from "@switchyard/contracts";
import { resolveSpec } from "@switchyard/service-spec";
import { startNats, type TestNats } from "@switchyard/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openSpecStore } from "./bus.js";

// A spec written without its route (the lease lapsed, or the route's put timed out, between the
// two writes: a cluster node killed mid-apply) must not leave proxies without the new revision's
// route for good: the user's retry, which finds the spec unchanged, writes the route.

let nats: TestNats;
let nc: NatsConnection;
beforeAll(async () => {
  nats = await startNats();
  nc = await connectBus({ url: nats.url, name: "route-repair-test", logger: silentLogger });
});
afterAll(async () => {
  await nc?.close();
  await nats?.dispose();
});

const spec = (replicas: number) => {
  const r = resolveSpec({
    yaml: `name: repair\nresources:\n  ports: 8000\nrun: echo\nservice:\n  readiness_probe: /\n  replicas: ${replicas}\n`,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.spec;
};

it("an apply whose route write was cut off is completed by the retry that finds the spec unchanged", async () => {
  const first = await openSpecStore(nc, silentLogger);
  expect((await first.apply(spec(1))).changed).toBe(true);
  // The lease lapses after the spec's write, before the route's: the second check throws.
  let checks = 0;
  const lapsing = {
    check() {
      if (++checks === 2) throw new Error("lease lost");
    },
  };
  const cut = await openSpecStore(nc, silentLogger, 1, undefined, lapsing);
  await expect(cut.apply(spec(2))).rejects.toThrow("lease lost");
  const services = await openBucket(nc, Buckets.services);
  expect((await getJson(services, "repair", ServiceRoute))?.value.revision).toBe(1);

  // The next term (a fresh store) gets the user's retry: unchanged, and the route follows.
  const next = await openSpecStore(nc, silentLogger, 1, undefined, NO_FENCE);
  const again = await next.apply(spec(2));
  expect(again.changed).toBe(false);
  expect(again.record.revision).toBe(2);
  expect((await getJson(services, "repair", ServiceRoute))?.value.revision).toBe(2);
  // An unchanged apply with the route in place writes nothing.
  const seq = (await services.status()).streamInfo.state.last_seq;
  await next.apply(spec(2));
  expect((await services.status()).streamInfo.state.last_seq).toBe(seq);
});
