import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectBus, silentLogger } from "@switchyard/bus";
import { type BusUser, Durables, Streams, YardEvent } from "@switchyard/contracts";
import {
  groupsUnder,
  holdPort,
  type Proc,
  run,
  startNats,
  startTs,
  type TestNats,
} from "@switchyard/testkit";
import { BUS_USERS, devPassword, NATS_CONF_PATH, passwordVar } from "@switchyard/up";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Issue 10 item 3: `yard events` reads what every service publishes (YARD_EVENTS) as the CLI's
// own NATS user of deploy/nats/yard.conf. The spec service, provisioner and prober run as real
// processes, each as its own user; the CLI as a real process. Waits are on output lines.

/** Passed with --secret: it is in the spec and the probe header, never in an event. */
const TOKEN = "tok-events-7c2e41d9-never-shown";

const ENGINE = [
  'export VLLM_API_KEY="$AUTH_TOKEN"',
  'exec fake-openai-engine --host 127.0.0.1 --port "$YARD_REPLICA_PORT"',
];
/** Stays STARTING: nothing answers its probe (the initial delay is 20 minutes). */
const IDLE = ["exec sleep 1000"];

function yaml(run: string[]): string {
  const script = run.map((l) => `  ${l}`).join("\n");
  return [
    "envs:",
    "  AUTH_TOKEN:",
    "resources:",
    "  ports: 8000",
    `run: |\n${script}`,
    "service:",
    "  readiness_probe:",
    "    path: /v1/models",
    "    headers:",
    "      Authorization: Bearer $AUTH_TOKEN",
    "  replicas: 1",
    "",
  ].join("\n");
}

const state = mkdtempSync(join(tmpdir(), "yard-events-"));
let nats: TestNats;
let held: Server | null = null;
const services: Proc[] = [];
const followers: Proc[] = [];
const cliOutput: string[] = [];

const as = (user: BusUser) => ({ NATS_URL: nats.url, NATS_USER: user, NATS_PASS: devPassword(user) });

async function yard(...args: string[]) {
  const r = await run("cli/src/main.ts", args, as("cli"));
  cliOutput.push(r.stdout, r.stderr);
  return r;
}

/** `yard ARGS` left running (--follow); stopped with Ctrl-C by the test. */
function follow(...args: string[]): Proc {
  const p = startTs("cli/src/main.ts", args, as("cli"));
  followers.push(p);
  return p;
}

/** Ctrl-C at a terminal: SIGINT to the process group; resolves with the exit code. */
function ctrlC(p: Proc): Promise<number | string> {
  process.kill(-(p.child.pid as number), "SIGINT");
  return p.exited;
}

function file(name: string, run: string[]): string {
  const p = join(state, `${name}.yaml`);
  writeFileSync(p, yaml(run));
  return p;
}

const TIME = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
const line = (service: string, type: string, rest: string) =>
  new RegExp(`^${TIME}  ${service}  ${type.replace(".", "\\.")} +${rest}`);

beforeAll(async () => {
  for (const u of BUS_USERS) process.env[passwordVar(u)] = devPassword(u);
  held = await holdPort(8000); // replicas get free ports of their own
  nats = await startNats({ config: NATS_CONF_PATH });
  const start = (name: "spec" | "provisioner" | "prober", env: NodeJS.ProcessEnv) => {
    const p = startTs(`services/${name}/src/main.ts`, [], { ...as(name), ...env });
    services.push(p);
    return p.waitForLine(/"msg":"ready"/, 60_000);
  };
  await start("spec", { YARD_SPEC_HTTP_PORT: "0" });
  await Promise.all([
    start("provisioner", {
      YARD_STATE_DIR: state,
      YARD_GPUS: "",
      YARD_HOST_ADDRESS: "127.0.0.1",
      YARD_TERMINATE_GRACE_MS: "5000",
    }),
    start("prober", { YARD_PROBE_INTERVAL_MS: "300" }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all(followers.map((p) => p.stop()));
  await Promise.all([...services].reverse().map((p) => p.stop(15_000)));
  for (const g of groupsUnder(state)) {
    try {
      process.kill(-g, "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }
  await nats?.dispose();
  held?.close();
  rmSync(state, { recursive: true, force: true });
});

describe("yard events", { timeout: 90_000 }, () => {
  it("--follow, started on an empty stream, shows each step of yard up as it happens; Ctrl-C exits 0", async () => {
    const f = follow("events", "--follow");
    const up = await yard(
      "up",
      file("llm", ENGINE),
      "-n",
      "llm",
      "--secret",
      `AUTH_TOKEN=${TOKEN}`,
      "--wait",
    );
    expect(up.code, up.stdout + up.stderr).toBe(0);
    await f.waitForLine(line("llm", "spec.published", "revision 1 published$"));
    await f.waitForLine(
      line("llm", "replica.launched", "replica 1 \\(rev 1\\): launched at http://127\\.0\\.0\\.1:\\d+$"),
    );
    await f.waitForLine(line("llm", "replica.phase_changed", "replica 1 \\(rev 1\\): STARTING$"));
    await f.waitForLine(
      line("llm", "replica.ready", "replica 1 \\(rev 1\\): ready at http://127\\.0\\.0\\.1:\\d+$"),
    );
    await f.waitForLine(line("llm", "replica.phase_changed", "replica 1 \\(rev 1\\): READY$"));
    // Causal order (the spec service's own event may come after the provisioner's first).
    const order = ["replica.launched", "replica.ready"].map((t) =>
      f.lines.findIndex((l) => l.includes(`  ${t} `)),
    );
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(await ctrlC(f)).toBe(0);
    expect(f.lines.join("\n")).not.toContain(TOKEN);
  });

  it("prints the stored events (--last N the newest N), one JSON object per line with --json", async () => {
    const all = await yard("events");
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr).toBe("");
    const lines = all.stdout.trimEnd().split("\n");
    expect(lines.some((l) => line("llm", "spec.published", "revision 1 published$").test(l))).toBe(true);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const l of lines) expect(l).toMatch(new RegExp(`^${TIME}  llm  [a-z_.]+ +\\S`));

    const two = await yard("events", "--last", "2");
    expect(two.stdout.trimEnd().split("\n")).toEqual(lines.slice(-2));

    const json = await yard("events", "--json");
    expect(json.code, json.stderr).toBe(0);
    const events = json.stdout
      .trimEnd()
      .split("\n")
      .map((l) => YardEvent.parse(JSON.parse(l)));
    expect(events).toHaveLength(lines.length);
    // The provisioner may publish before the spec service does (the record is written first):
    // the spec's event is among them, not always the first.
    expect(events).toContainEqual(
      expect.objectContaining({ type: "spec.published", service: "llm", revision: 1 }),
    );
    expect(events.map((e) => e.type)).toContain("replica.ready");
  });

  it("NAME shows that service's events only; an unknown one has none; a name that is not one is a usage error", async () => {
    const up = await yard("up", file("other", IDLE), "-n", "other", "--secret", `AUTH_TOKEN=${TOKEN}`);
    expect(up.code, up.stderr).toBe(0);
    // Its launch is an event of its own, after its spec's: follow until it shows.
    const f = follow("events", "other", "--follow");
    await f.waitForLine(line("other", "replica.launched", "replica 1 \\(rev 1\\)"));
    expect(await ctrlC(f)).toBe(0);

    const other = await yard("events", "other");
    const otherLines = other.stdout.trimEnd().split("\n");
    // The provisioner may publish before the spec service does: the record is written first.
    expect(otherLines.some((l) => line("other", "spec.published", "revision 1 published$").test(l))).toBe(
      true,
    );
    for (const l of otherLines) expect(l).toContain("  other  ");
    const llm = await yard("events", "llm");
    expect(llm.stdout).not.toContain("  other  ");
    expect(llm.stdout.split("\n").some((l) => line("llm", "spec.published", "revision 1").test(l))).toBe(
      true,
    );

    const none = await yard("events", "nothing-here");
    expect({ code: none.code, out: none.stdout.trim() }).toEqual({
      code: 0,
      out: "No events of nothing-here.",
    });
    for (const bad of ["*", ">", "llm.replica", "LLM"]) {
      const r = await yard("events", bad);
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toContain("NAME must be a service name");
      expect(r.stdout, bad).toBe("");
    }
  });

  it("--follow NAME shows yard down as it happens: spec deleted, the replica shut down and terminated", async () => {
    const f = follow("events", "llm", "--follow", "--last", "1");
    // The newest stored one first: the consumer is there, and what follows is new.
    await f.waitForLine(/ {2}llm {2}/);
    expect(f.lines).toHaveLength(1);
    const down = await yard("down", "llm");
    expect(down.code, down.stderr).toBe(0);
    await f.waitForLine(line("llm", "spec.deleted", "deleted \\(last revision 1\\)$"));
    await f.waitForLine(
      line("llm", "replica.terminated", "replica 1 \\(rev 1\\): terminated \\(SpecDeleted\\)$"),
    );
    expect(f.lines.some((l) => l.includes("  other  "))).toBe(false);
    expect(await ctrlC(f)).toBe(0);
  });

  it("the CLI cannot take the provisioner's durable's name: a create under it (headers only) and a delete are refused, the durable unchanged", async () => {
    const { stream, name, deliverSubject } = Durables.provisionerFailures;
    const cli = await connectBus({
      url: nats.url,
      name: "t-cli",
      user: "cli",
      pass: devPassword("cli"),
      logger: silentLogger,
    });
    const prov = await connectBus({
      url: nats.url,
      name: "t-prov",
      user: "provisioner",
      pass: devPassword("provisioner"),
      logger: silentLogger,
    });
    const info = async () =>
      JSON.parse(
        (await prov.request(`$JS.API.CONSUMER.INFO.${stream}.${name}`, "{}", { timeout: 5_000 })).string(),
      );
    try {
      const before = await info();
      expect(before.config).toMatchObject({ deliver_subject: deliverSubject });
      const filter = before.config.filter_subject;
      const evil = {
        stream_name: stream,
        config: { ...before.config, headers_only: true, rate_limit_bps: 8 },
      };
      for (const subject of [
        `$JS.API.CONSUMER.CREATE.${stream}.${name}.${filter}`,
        `$JS.API.CONSUMER.DELETE.${stream}.${name}`,
      ])
        await expect(cli.request(subject, JSON.stringify(evil), { timeout: 5_000 }), subject).rejects.toThrow(
          /permissions violation/i,
        );
      expect((await info()).config).toEqual(before.config);
    } finally {
      await cli.close();
      await prov.close();
    }
  });

  it("leaves no consumer behind: each run deleted its own, Ctrl-C included (the provisioner's durable stays)", async () => {
    const nc = await connectBus({
      url: nats.url,
      name: "t-cli",
      user: "cli",
      pass: devPassword("cli"),
      logger: silentLogger,
    });
    try {
      const m = await nc.request(`$JS.API.STREAM.INFO.${Streams.events.name}`, "{}", { timeout: 5_000 });
      expect(JSON.parse(m.string()).state.consumer_count).toBe(1);
    } finally {
      await nc.close();
    }
  });

  it("no output shows the token", () => {
    const out = [...cliOutput, ...followers.flatMap((p) => p.lines), ...services.flatMap((p) => p.lines)];
    expect(out.join("\n")).not.toContain(TOKEN);
  });
});
