import {
  connectBus,
  countEvents,
  createBucket,
  getJson,
  type KV,
  type NatsConnection,
  putJson,
  serve,
  silentLogger,
  watchBucket,
} from "@switchyard/bus";
import {
  Buckets,
  LogsRequest,
  type ReplicaRecord,
  ServiceRoute,
  SpecRecord,
  Subjects,
} from "@switchyard/contracts";
import {
  endpointRecord,
  type Proc,
  replicaRecord,
  startNats,
  startTs,
  type TestNats,
} from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { closedPort, serviceYaml, writeYaml, yard } from "./spec-cli-helpers.js";

const SEED = "examples/vllm-auth.yaml";

describe("against nats-server and the spec service", () => {
  const TOKEN = "tok-PLANTED-5c1d9e";
  const API_TOKEN = "api-PLANTED-0123456789abcdef";
  /** The HTTP API with its bearer token. */
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${http}${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${API_TOKEN}` },
    });
  let nats: TestNats;
  let nc: NatsConnection;
  let spec: Proc;
  let http: string;
  let specs: KV;
  let services: KV;
  const cliOutputs: string[] = [];
  let env: NodeJS.ProcessEnv;
  const cli = async (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    const r = await yard(args, { ...env, ...extra });
    cliOutputs.push(r.all);
    return r;
  };

  beforeAll(async () => {
    nats = await startNats();
    env = { NATS_URL: nats.url, NATS_USER: undefined, NATS_PASS: undefined };
    spec = startTs("services/spec/src/main.ts", [], {
      ...env,
      YARD_SPEC_HTTP_PORT: "0",
      YARD_SPEC_API_TOKEN: API_TOKEN,
      LOG_LEVEL: "trace",
    });
    const listening = await spec.waitForLine(/"msg":"listening"/, 60_000);
    http = JSON.parse(listening).address;
    await spec.waitForLine(/"msg":"ready"/);
    nc = await connectBus({ url: nats.url, name: "spec-cli-test", logger: silentLogger });
    specs = await createBucket(nc, Buckets.specs);
    services = await createBucket(nc, Buckets.services);
  });
  afterAll(async () => {
    await spec?.stop();
    await nc?.close();
    await nats?.dispose();
  });

  it("yard up stores the resolved spec (token resolved), status --json lists it, revisions count changes only", async () => {
    const up = await cli(["up", SEED, "--env", `AUTH_TOKEN=${TOKEN}`, "--env", "HF_TOKEN=hf-seed-123"]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain("Service vllm-auth: revision 1 published.");
    expect(up.stdout).toContain("Endpoint: http://vllm-auth.localhost:8080");
    const stored = (await getJson(specs, "vllm-auth", SpecRecord))!.value;
    expect(stored.revision).toBe(1);
    expect(stored.spec.envs.AUTH_TOKEN).toBe(TOKEN);
    expect(stored.spec.service.readiness_probe.headers.Authorization).toBe(`Bearer ${TOKEN}`);
    const route = (await getJson(services, "vllm-auth", ServiceRoute))!.value;
    expect(route).toEqual({
      schema: 1,
      name: "vllm-auth",
      revision: 1,
      load_balancing_policy: "least_load",
      target_qps_per_replica: null,
      // The autoscaler's numbers (SkyServe's defaults for `replicas: 1`); no envs, no headers.
      replica_policy: {
        min_replicas: 1,
        max_replicas: 1,
        num_overprovision: 0,
        upscale_delay_seconds: 300,
        downscale_delay_seconds: 1200,
      },
    });
    expect(await countEvents(nc, "vllm-auth", "spec.published")).toBe(1);

    const status = await cli(["status", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    const doc = JSON.parse(status.stdout);
    expect(
      doc.services.map((s: { name: string; revision: number; status: string }) => [
        s.name,
        s.revision,
        s.status,
      ]),
    ).toEqual([["vllm-auth", 1, "NO_REPLICA"]]);
    expect(doc.services[0].record.spec.service.readiness_probe.headers.Authorization).toBe("Bearer ***");

    const same = await cli(["up", SEED, "--env", `AUTH_TOKEN=${TOKEN}`, "--env", "HF_TOKEN=hf-seed-123"]);
    expect(same.stdout).toContain("Service vllm-auth: unchanged, revision 1");
    expect((await getJson(specs, "vllm-auth", SpecRecord))!.value.revision).toBe(1);
    expect(await countEvents(nc, "vllm-auth", "spec.published")).toBe(1);

    const { readFileSync } = await import("node:fs");
    const changed = writeYaml(
      "vllm-auth.yaml",
      readFileSync(SEED, "utf8").replace("replicas: 1", "replicas: 2"),
    );
    const again = await cli(["up", changed, "--env", `AUTH_TOKEN=${TOKEN}`, "--env", "HF_TOKEN=hf-seed-123"]);
    expect(again.stdout).toContain("Service vllm-auth: revision 2 published.");
    const rec2 = (await getJson(specs, "vllm-auth", SpecRecord))!.value;
    expect([rec2.revision, rec2.spec.service.replica_policy.min_replicas]).toEqual([2, 2]);
    expect((await getJson(services, "vllm-auth", ServiceRoute))!.value.revision).toBe(2);
    expect(await countEvents(nc, "vllm-auth", "spec.published")).toBe(2);

    const table = await cli(["status", "vllm-auth"]);
    expect(table.stdout).toMatch(
      /^vllm-auth\s+2\s+-\s+NO_REPLICA\s+0\/0\s+http:\/\/vllm-auth\.localhost:8080\s+least_load$/m,
    );
    expect((await cli(["status", "--endpoint", "vllm-auth"])).stdout.trim()).toBe(
      "http://vllm-auth.localhost:8080",
    );
  });

  it("yard down removes the spec and its route; unknown names are errors naming them", async () => {
    await cli(["up", writeYaml("gone.yaml", serviceYaml("gone")), "--env", `AUTH_TOKEN=${TOKEN}`]);
    const down = await cli(["down", "gone"]);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain("Removed service gone");
    expect(await getJson(specs, "gone", SpecRecord)).toBeNull();
    expect(await getJson(services, "gone", ServiceRoute)).toBeNull();
    expect(await countEvents(nc, "gone", "spec.deleted")).toBe(1);
    const again = await cli(["down", "gone"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("no service named 'gone'");
    const status = await cli(["status", "gone"]);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain("no service named 'gone'");
  });

  it("a rejected spec lists every problem with its path and never reaches the bus", async () => {
    const seenKeys: string[] = [];
    let sentinelStored!: () => void;
    const sentinelKey = new Promise<void>((r) => {
      sentinelStored = r;
    });
    const w = watchBucket(
      specs,
      z.unknown(),
      (c) => {
        seenKeys.push(c.key);
        if (c.key === "sentinel" && c.op === "put") sentinelStored();
      },
      silentLogger,
    );
    await w.ready;
    seenKeys.length = 0;
    const seenEvents: string[] = [];
    let sentinelSeen!: () => void;
    const sentinelEvent = new Promise<void>((r) => {
      sentinelSeen = r;
    });
    const sub = nc.subscribe(Subjects.eventsAll, {
      callback: (_e, m) => {
        seenEvents.push(m.subject);
        if (m.subject === "yard.events.sentinel.spec.published") sentinelSeen();
      },
    });
    const bad = writeYaml(
      "broken.yaml",
      serviceYaml("broken", 1, "  load_balancing_policy: fastest\n").replace("replicas: 1", "replicas: -1"),
    );
    const r = await cli(["up", bad, "--env", `AUTH_TOKEN=${TOKEN}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error \[SY_ERR_SPEC_INVALID\]/);
    expect(r.stderr).toContain("- service.replicas:");
    expect(r.stderr).toContain("- service.load_balancing_policy:");
    // A sentinel apply after it: once the sentinel is seen, anything the bad apply wrote would
    // have been seen before it (one writer, ordered stream and subjects).
    await cli(["up", writeYaml("sentinel.yaml", serviceYaml("sentinel")), "--env", "AUTH_TOKEN=x"]);
    await sentinelKey;
    await sentinelEvent;
    w.stop();
    sub.unsubscribe();
    expect(seenKeys.filter((k) => k !== "sentinel")).toEqual([]);
    expect(seenEvents).toEqual(["yard.events.sentinel.spec.published"]);
    expect(await countEvents(nc, "broken", "spec.published")).toBe(0);
  });

  it("HTTP API: POST, GET, list, DELETE, 400 with issue paths, 404", async () => {
    const body = { yaml: serviceYaml("web"), env: { AUTH_TOKEN: TOKEN } };
    const post = await api(`/v1/services`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(post.status).toBe(200);
    const created = await post.json();
    expect([created.changed, created.record.revision]).toEqual([true, 1]);
    expect(JSON.stringify(created)).not.toContain(TOKEN);
    expect((await getJson(specs, "web", SpecRecord))!.value.spec.envs.AUTH_TOKEN).toBe(TOKEN);

    const dry = await api(`/v1/services`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...body, yaml: serviceYaml("web", 3), dry_run: true }),
    });
    const preview = await dry.json();
    expect([dry.status, preview.changed, preview.record.revision]).toEqual([200, true, 2]);
    expect((await getJson(specs, "web", SpecRecord))!.value.revision).toBe(1);
    expect(await countEvents(nc, "web", "spec.published")).toBe(1);

    const one = await api(`/v1/services/web`);
    expect(one.status).toBe(200);
    expect((await one.json()).spec.service.readiness_probe.headers.Authorization).toBe("Bearer ***");
    const list = await (await api(`/v1/services`)).json();
    expect(list.records.map((r: { name: string }) => r.name)).toContain("web");

    const invalid = await api(`/v1/services`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        yaml: serviceYaml("web2").replace("path: /v1/models", "path: v1"),
        env: { AUTH_TOKEN: "x" },
      }),
    });
    expect(invalid.status).toBe(400);
    const err = await invalid.json();
    expect(err.code).toBe("SY_ERR_SPEC_INVALID");
    expect(err.issues.map((i: { path: string }) => i.path)).toContain("service.readiness_probe.path");
    expect(await getJson(specs, "web2", SpecRecord)).toBeNull();
    expect(await countEvents(nc, "web2", "spec.published")).toBe(0);

    const notJson = await api(`/v1/services`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    expect([notJson.status, (await notJson.json()).code]).toEqual([400, "SY_ERR_BAD_REQUEST"]);

    const del = await api(`/v1/services/web`, { method: "DELETE" });
    expect([del.status, await del.json()]).toEqual([200, { name: "web", deleted: true }]);
    expect(await getJson(specs, "web", SpecRecord)).toBeNull();
    expect(await getJson(services, "web", ServiceRoute)).toBeNull();
    const gone = await api(`/v1/services/web`);
    expect([gone.status, (await gone.json()).code]).toEqual([404, "SY_ERR_NOT_FOUND"]);
  });

  it("concurrent applies cannot both win a revision (compare-and-set)", async () => {
    const applies = [1, 2, 3, 4, 5].map((n) =>
      api(`/v1/services`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ yaml: serviceYaml("race", n), env: { AUTH_TOKEN: "x" } }),
      }).then((r) => r.json()),
    );
    const results = await Promise.all(applies);
    expect(results.map((r) => r.changed)).toEqual([true, true, true, true, true]);
    expect(results.map((r) => r.record.revision).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(await countEvents(nc, "race", "spec.published")).toBe(5);
    const same = await Promise.all(
      [1, 2, 3].map(() =>
        api(`/v1/services`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ yaml: serviceYaml("race", 9), env: { AUTH_TOKEN: "x" } }),
        }).then((r) => r.json()),
      ),
    );
    expect(same.filter((r) => r.changed)).toHaveLength(1);
    expect(new Set(same.map((r) => r.record.revision))).toEqual(new Set([6]));
  });

  it("yard down --all removes every service; exactly one of NAMEs and --all", async () => {
    expect((await cli(["down", "x", "--all"])).code).toBe(2);
    const r = await cli(["down", "--all"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Removed service sentinel");
    const left: string[] = [];
    for await (const k of await specs.keys()) left.push(k);
    expect(left).toEqual([]);
    expect((await cli(["status"])).stdout).toContain("No services.");
  });

  it("up --wait prints each phase change and ends READY on a ready endpoint of the new revision", async () => {
    // The test writes yard-replicas / yard-endpoints as the provisioner and prober would.
    const replicas = await createBucket(nc, Buckets.replicas);
    const endpoints = await createBucket(nc, Buckets.endpoints);
    const proc = startTs(
      "cli/src/main.ts",
      ["up", writeYaml("w.yaml", serviceYaml("waiter")), "--env", `AUTH_TOKEN=${TOKEN}`, "--wait"],
      env,
    );
    await proc.waitForLine(/Waiting for waiter revision 1 to be READY/);
    const rec = (phase: ReplicaRecord["phase"], more: Partial<ReplicaRecord> = {}) =>
      replicaRecord({ service: "waiter", id: 1, phase, url: null, ...more });
    await replicas.put("waiter.1", JSON.stringify(rec("PROVISIONING")));
    await proc.waitForLine(/^\s*\d+s\s+replica 1: PROVISIONING$/);
    await replicas.put("waiter.1", JSON.stringify(rec("STARTING", { url: "http://127.0.0.1:8000" })));
    await proc.waitForLine(/replica 1: STARTING \(http:\/\/127\.0\.0\.1:8000\)/);
    await putJson(endpoints, "waiter.1", endpointRecord({ service: "waiter", url: "http://127.0.0.1:8000" }));
    expect(await proc.exited).toBe(0);
    expect(proc.lines.join("\n")).toMatch(
      /replica 1: READY \(http:\/\/127\.0\.0\.1:8000\)\nService waiter is READY/,
    );
    cliOutputs.push(proc.lines.join("\n"));

    // A replica of the next revision failing ends the wait with its reason.
    const failing = startTs(
      "cli/src/main.ts",
      ["up", writeYaml("w.yaml", serviceYaml("waiter", 2)), "--env", `AUTH_TOKEN=${TOKEN}`, "--wait"],
      env,
    );
    await failing.waitForLine(/Waiting for waiter revision 2/);
    await replicas.put(
      "waiter.2",
      JSON.stringify({
        ...rec("FAILED_INITIAL_DELAY"),
        id: 2,
        revision: 2,
        reason: "InitialDelayExceeded",
        message: "last probe: HTTP 401",
      }),
    );
    expect(await failing.exited).toBe(1);
    expect(failing.lines.join("\n")).toContain(
      "error [FAILED_INITIAL_DELAY]: replica 2 of waiter revision 2 failed: InitialDelayExceeded: last probe: HTTP 401",
    );
    cliOutputs.push(failing.lines.join("\n"));

    const status = await cli(["status", "waiter"]);
    expect(status.stdout).toMatch(/^waiter\s+2\s+1\s+READY\s+1\/1\s/m);
    expect(status.stdout).toMatch(
      /^waiter\s+2\s+2\s+FAILED_INITIAL_DELAY\s+-\s+-\s+InitialDelayExceeded: last probe: HTTP 401$/m,
    );

    const timeout = await cli([
      "up",
      writeYaml("w.yaml", serviceYaml("waiter", 3)),
      "--env",
      `AUTH_TOKEN=${TOKEN}`,
      "--wait",
      "--timeout",
      "1",
    ]);
    expect(timeout.code).toBe(1);
    expect(timeout.stderr).toContain("timed out after 1 s waiting for a ready endpoint of waiter revision 3");

    const interrupted = startTs(
      "cli/src/main.ts",
      ["up", writeYaml("w.yaml", serviceYaml("waiter", 4)), "--env", "AUTH_TOKEN=x", "--wait"],
      env,
    );
    await interrupted.waitForLine(/Waiting for waiter revision 4/);
    interrupted.child.kill("SIGINT");
    expect(await interrupted.exited).toBe(130);
    expect(interrupted.lines.join("\n")).toContain("interrupted: the service keeps being reconciled");
  });

  it("yard logs prints a replica's log from the logs API and --follow reads until finished", async () => {
    // Serves yard.api.replica.logs from an in-memory log, as the provisioner does from its file.
    let log = "line 1\nline 2\nline 3\n";
    let finished = false;
    const served = serve(
      nc,
      Subjects.replicaLogs,
      LogsRequest,
      async (req) => {
        const start =
          req.tail_bytes && req.offset === 0 ? Math.max(0, log.length - req.tail_bytes) : req.offset;
        const data = log.slice(start, start + req.max_bytes);
        return { replica_id: req.replica_id ?? 1, data, next_offset: start + data.length, finished };
      },
      silentLogger,
    );
    const all = await cli(["logs", "waiter"]);
    expect([all.code, all.stdout]).toEqual([0, "line 1\nline 2\nline 3\n"]);
    const tail = await cli(["logs", "waiter", "1", "--tail", "2"]);
    expect(tail.stdout).toBe("line 2\nline 3\n");
    const follow = startTs("cli/src/main.ts", ["logs", "waiter", "--follow"], env);
    await follow.waitForLine(/^line 3$/);
    log += "line 4\n";
    await follow.waitForLine(/^line 4$/);
    const ctrlC = startTs("cli/src/main.ts", ["logs", "waiter", "--follow"], env);
    await ctrlC.waitForLine(/^line 4$/);
    ctrlC.child.kill("SIGINT");
    expect(await ctrlC.exited).toBe(0);
    finished = true;
    expect(await follow.exited).toBe(0);
    await served.stop();
  });

  it("the planted token is in no log line of the spec service nor in any CLI output", async () => {
    // Error paths with the token on the command line, on top of everything run above.
    const runs = await Promise.all([
      cli([
        "up",
        writeYaml("bad-tok.yaml", "name: bad\nservice: {replicas: -1}\n"),
        "--env",
        `AUTH_TOKEN=${TOKEN}`,
      ]),
      cli(["up", SEED, "--env", `AUTH_TOKEN=${TOKEN}`, "--dry-run"]),
      cli(["up", SEED, "--env", `AUTH_TOKEN=${TOKEN}`, "--env", "HF_TOKEN=h", "--dry-run"]),
      cli(["up", SEED, "--secret", `AUTH_TOKEN=${TOKEN}`, "--env", "HF_TOKEN=h", "-n", "Bad_Name"]),
      cli(["status", "--json"]),
      cli(["status"]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([1, 1, 0, 1, 0, 0]);
    expect(cliOutputs.length).toBeGreaterThan(15);
    expect(cliOutputs.filter((o) => o.includes(TOKEN))).toEqual([]);
    expect(spec.lines.length).toBeGreaterThan(10);
    expect(spec.lines.filter((l) => l.includes(TOKEN))).toEqual([]);
  });

  it("clear errors when NATS is unreachable", async () => {
    const port = await closedPort();
    const r = await yard(["status"], { NATS_URL: `nats://127.0.0.1:${port}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach NATS at nats://127.0.0.1:${port}`);
    expect(r.stderr).toContain("Start it with `pnpm start` or set NATS_URL");
  });

  it("SIGTERM stops the spec service with exit 0; the CLI then says it is not running", async () => {
    expect(await spec.stop()).toBe(0);
    expect(spec.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
    const r = await yard(["up", SEED, "--env", "AUTH_TOKEN=x", "--env", "HF_TOKEN=h"], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "the spec service is not running (no responder on yard.api.spec.apply); start it with `pnpm -F @switchyard/spec start`",
    );
  });
});
