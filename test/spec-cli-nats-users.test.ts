import {
  connectBus,
  getJson,
  type KV,
  type NatsConnection,
  openBucket,
  putJson,
  silentLogger,
} from "@switchyard/bus";
import { Buckets, SpecRecord } from "@switchyard/contracts";
import {
  endpointRecord,
  type Proc,
  replicaRecord,
  startNats,
  startTs,
  type TestNats,
} from "@switchyard/testkit";
import { BUS_USERS, devPassword, NATS_CONF_PATH, passwordVar } from "@switchyard/up";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceYaml, writeYaml, yard } from "./spec-cli-helpers.js";

/**
 * The spec service and the CLI as the least-privilege NATS users of deploy/nats/yard.conf
 * (what `pnpm start` and docker-compose run): every bus operation they use is allowed.
 */
describe("spec service and yard CLI as their own NATS users", () => {
  let nats: TestNats;
  let spec: Proc;
  let provisioner: NatsConnection;
  let prober: NatsConnection;
  let replicas: KV;
  let endpoints: KV;
  const cliEnv = () => ({ NATS_URL: nats.url, NATS_USER: "cli", NATS_PASS: devPassword("cli") });
  const as = (user: "provisioner" | "prober" | "spec") =>
    connectBus({ url: nats.url, name: `t-${user}`, user, pass: devPassword(user), logger: silentLogger });

  beforeAll(async () => {
    for (const u of BUS_USERS) process.env[passwordVar(u)] = devPassword(u);
    nats = await startNats({ config: NATS_CONF_PATH });
    spec = startTs("services/spec/src/main.ts", [], {
      NATS_URL: nats.url,
      NATS_USER: "spec",
      NATS_PASS: devPassword("spec"),
      YARD_SPEC_HTTP_PORT: "0",
    });
    await spec.waitForLine(/"msg":"ready"/, 60_000);
    // The spec service created every stream; the writers of the replica buckets bind to them.
    provisioner = await as("provisioner");
    prober = await as("prober");
    replicas = await openBucket(provisioner, Buckets.replicas);
    endpoints = await openBucket(prober, Buckets.endpoints);
  });
  afterAll(async () => {
    await spec?.stop();
    await provisioner?.close();
    await prober?.close();
    await nats?.dispose();
  });

  it("up, re-apply after down (revision history), status --json, up --wait and down all work", async () => {
    const file = writeYaml("perm.yaml", serviceYaml("perm"));
    const up = await yard(["up", file, "--env", "AUTH_TOKEN=x"], cliEnv());
    expect(up.code, up.all).toBe(0);
    expect((await yard(["down", "perm"], cliEnv())).code).toBe(0);
    const again = await yard(["up", file, "--env", "AUTH_TOKEN=x"], cliEnv());
    expect(again.stdout, again.all).toContain("Service perm: revision 2 published.");
    // The provisioner user reads what the spec user stored.
    const specs = await openBucket(provisioner, Buckets.specs, { logger: silentLogger });
    expect((await getJson(specs, "perm", SpecRecord))?.value.revision).toBe(2);

    const rec = replicaRecord({ service: "perm", revision: 2, url: "http://127.0.0.1:8000" });
    await putJson(replicas, "perm.1", rec);
    await putJson(endpoints, "perm.1", endpointRecord({ service: "perm", url: rec.url!, revision: 2 }));
    const status = await yard(["status", "--json"], cliEnv());
    expect(status.code, status.all).toBe(0);
    const doc = JSON.parse(status.stdout);
    expect(doc.services.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ["perm", "READY"],
    ]);
    expect(doc.replicas).toHaveLength(1);

    const wait = await yard(["up", file, "--env", "AUTH_TOKEN=x", "--wait", "--timeout", "60"], cliEnv());
    expect(wait.code, wait.all).toBe(0);
    expect(wait.stdout).toContain("Service perm is READY: replica 1 at http://127.0.0.1:8000");

    const down = await yard(["down", "--all"], cliEnv());
    expect(down.code, down.all).toBe(0);
    expect(down.stdout).toContain("Removed service perm");
  });
});
