import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { ofService, type Snapshot, TestSystem } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProxyProc, startProxy } from "../services/proxy/test/helpers.js";

// Issue 11's docker backend end to end: nats-server, spec, provisioner (YARD_BACKEND=docker),
// prober and a proxy as real processes, the `yard` CLI, and the example's fake engine in real
// containers of the project's image on this machine's Docker engine (host networking: every
// request stays on loopback). Skipped, saying why, where no engine answers or the image is
// missing (`pnpm images` builds it).

const IMAGE = "switchyard:local";
const SERVICE = "local-auth";
const TOKEN = "dock-tok-5f1c9e2a-never-log-me";
const SOCKET = "/var/run/docker.sock";

/** GET `path` from the engine's API on its unix socket: the status, or null when none answers. */
function engineGet(path: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request({ socketPath: SOCKET, path, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on("error", () => resolve(null));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

async function engineReady(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if ((await engineGet("/_ping")) !== 200)
    return { ok: false, reason: `no Docker engine answers on ${SOCKET} (start dockerd; .ci/run does)` };
  if ((await engineGet(`/images/${IMAGE}/json`)) !== 200)
    return { ok: false, reason: `the image ${IMAGE} is not on the engine (build it: pnpm images)` };
  return { ok: true };
}

const engine = await engineReady();
if (!engine.ok) console.warn(`test/docker-backend.test.ts skipped: ${engine.reason}`);

/** The example with the project's image, two replicas, and the engine bound to loopback only. */
const YAML = readFileSync("examples/local-auth.yaml", "utf8")
  .replace("resources:\n  ports: 8000\n", `resources:\n  ports: 8000\n  image_id: docker:${IMAGE}\n`)
  .replace("--host 0.0.0.0", "--host 127.0.0.1")
  // A loaded CI machine may take a minute to start a container's engine: no FAILED_INITIAL_DELAY for that.
  .replace("initial_delay_seconds: 60", "initial_delay_seconds: 240\n  replica_policy: { min_replicas: 2 }")
  .replace("  replicas: 1\n", "");

const sys = new TestSystem({
  env: {
    provisioner: {
      YARD_BACKEND: "docker",
      YARD_TERMINATE_GRACE_MS: "3000",
      YARD_PROXY_REPORT_MS: "200",
      YARD_DRAIN_TIMEOUT_S: "5",
    },
    prober: { YARD_PROBE_INTERVAL_MS: "200" },
  },
  holdPorts: [8000], // the example's port: each replica gets a free port of its own
});
let proxy: ProxyProc;

function docker(...args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Ids of every container, running or not, labelled with our service's name. */
function containersOfService(): string[] {
  return docker("ps", "-aq", "--no-trunc", "--filter", `label=dev.switchyard.service=${SERVICE}`)
    .split("\n")
    .filter(Boolean);
}

const readyIds = (s: Snapshot) =>
  ofService(s, SERVICE)
    .replicas.filter((r) => r.phase === "READY")
    .map((r) => r.id);

/** n READY replicas, and the endpoints are exactly theirs. */
const nReady = (n: number) => (s: Snapshot) => {
  const ready = readyIds(s);
  const eps = ofService(s, SERVICE).endpoints.map((e) => e.replica_id);
  return ready.length === n && eps.length === n && eps.every((id) => ready.includes(id));
};

function models(auth: boolean): Promise<Response> {
  return fetch(`${proxy.url}/v1/models`, {
    headers: auth ? { authorization: `Bearer ${TOKEN}` } : {},
  });
}

beforeAll(async () => {
  if (!engine.ok) return;
  await sys.start("spec", "provisioner", "prober");
  proxy = await startProxy(sys.nats.url, { YARD_PROXY_REPORT_MS: "200" });
}, 120_000);

afterAll(async () => {
  if (!engine.ok) return;
  await proxy?.proc.stop(15_000);
  await sys.dispose();
  // Whatever a failed test left: never a container behind.
  for (const id of containersOfService()) docker("rm", "-f", id);
}, 60_000);

describe.skipIf(!engine.ok)("the docker backend: the example in containers of the project's image", () => {
  it("yard up --wait: both replicas READY through the authenticated probe, served by a proxy (200; 401 without the token)", async () => {
    const file = sys.writeYaml(SERVICE, YAML);
    const up = await sys.yard(["up", file, "--env", `AUTH_TOKEN=${TOKEN}`, "--wait"]);
    expect(up.code, up.all).toBe(0);
    const s = await sys.until(nReady(2), "2 READY");
    const reps = ofService(s, SERVICE).replicas;
    // No launch failed on the way (the message would say why).
    expect(reps.map((r) => `${r.id} ${r.phase} ${r.message ?? ""}`.trim())).toEqual(
      reps.map((r) => `${r.id} READY`),
    );
    for (const r of reps) {
      expect(r).toMatchObject({ backend: "docker", host: "127.0.0.1" });
      expect(r.handle).toMatch(/^[0-9a-f]{64}$/);
      const [info] = JSON.parse(docker("inspect", r.handle!)) as {
        State: { Running: boolean };
        Config: { Labels: Record<string, string>; Image: string };
        HostConfig: { NetworkMode: string };
      }[];
      expect(info.State.Running).toBe(true);
      expect(info.Config.Image).toBe(IMAGE);
      expect(info.HostConfig.NetworkMode).toBe("host");
      expect(info.Config.Labels).toMatchObject({
        "dev.switchyard.service": SERVICE,
        "dev.switchyard.replica": String(r.id),
        "dev.switchyard.revision": String(r.revision),
      });
    }
    // The token is in no container's config: not in Env, Cmd, Entrypoint or labels.
    expect(docker("inspect", ...reps.map((r) => r.handle!))).not.toContain(TOKEN);
    expect((await models(true)).status).toBe(200);
    expect((await models(false)).status).toBe(401);
    // yard logs reads the engine's log stream of the container, the token masked.
    const logs = await sys.yard(["logs", SERVICE, String(reps[0].id)]);
    expect(logs.all).toMatch(/fake-openai-engine GET \/v1\/models 200/);
    expect(logs.all).not.toContain(TOKEN);
  }, 180_000);

  it("docker kill of a replica's container under load: replaced, and no request fails", async () => {
    const before = await sys.until(nReady(2), "2 READY");
    const [victim, other] = ofService(before, SERVICE).replicas;
    let stop = false;
    const answers: (number | string)[] = [];
    let flowing: () => void = () => {};
    const loadFlowing = new Promise<void>((resolve) => (flowing = resolve));
    // Idempotent GETs in a loop over 4 connections until the replacement is READY (bounded).
    const deadline = Date.now() + 90_000;
    const client = async () => {
      while (!stop && Date.now() < deadline) {
        try {
          const res = await models(true);
          await res.arrayBuffer();
          answers.push(res.status);
        } catch (err) {
          answers.push(String((err as Error).cause ?? err));
        }
        if (answers.length >= 20) flowing();
      }
      flowing();
    };
    const load = Promise.all([client(), client(), client(), client()]);
    await loadFlowing;
    docker("kill", victim.handle!);
    const failed = await sys.until(
      (s) => ofService(s, SERVICE).replicas.some((r) => r.id === victim.id && r.phase === "FAILED"),
      "the killed replica FAILED",
    );
    expect(ofService(failed, SERVICE).replicas.find((r) => r.id === victim.id)).toMatchObject({
      reason: "ProcessExited",
      unrecoverable: false,
    });
    const after = await sys.until(
      (s) => nReady(2)(s) && readyIds(s).some((id) => id > Math.max(victim.id, other.id)),
      "a replacement READY beside the survivor",
    );
    stop = true;
    await load;
    console.info(
      `docker kill under load: ${answers.length} requests through the proxy during the replacement`,
    );
    expect(answers.length).toBeGreaterThan(20);
    expect(answers.filter((a) => a !== 200)).toEqual([]);
    // One container per live replica: the killed one is gone, nothing is duplicated.
    const live = ofService(after, SERVICE).replicas.filter((r) => r.phase === "READY");
    expect(containersOfService().sort()).toEqual(live.map((r) => r.handle).sort());
  }, 180_000);

  it("a provisioner killed and restarted adopts the running containers: same ids, no duplicate", async () => {
    const before = ofService(await sys.until(nReady(2), "2 READY"), SERVICE).replicas.filter(
      (r) => r.phase === "READY",
    );
    const p1 = sys.service("provisioner");
    process.kill(-p1.child.pid!, "SIGKILL");
    await p1.exited;
    for (const r of before) expect(JSON.parse(docker("inspect", r.handle!))[0].State.Running).toBe(true);
    const p2 = await sys.startService("provisioner");
    await p2.waitForLine(/"step":"adopt"/, 30_000);
    const s = await sys.until(nReady(2), "2 READY after the restart");
    const after = ofService(s, SERVICE).replicas.filter((r) => r.phase === "READY");
    expect(after.map((r) => [r.id, r.handle])).toEqual(before.map((r) => [r.id, r.handle]));
    expect(containersOfService().sort()).toEqual(before.map((r) => r.handle).sort());
    expect((await models(true)).status).toBe(200);
  }, 120_000);

  it("yard down leaves no container, and the token was in no output", async () => {
    const down = await sys.yard(["down", SERVICE]);
    expect(down.code, down.all).toBe(0);
    await sys.until((s) => ofService(s, SERVICE).replicas.length === 0, "records gone");
    expect(containersOfService()).toEqual([]);
    for (const line of [...sys.allOutput(), ...proxy.proc.lines]) expect(line).not.toContain(TOKEN);
  }, 120_000);
});
