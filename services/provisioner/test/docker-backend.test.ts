import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@switchyard/bus";
import type { ResolvedSpec } from "@switchyard/contracts";
import { specRecord } from "@switchyard/testkit";
import { afterAll, describe, expect, it } from "vitest";
import type { BackendEvent } from "../src/backends/backend.js";
import { DockerBackend } from "../src/backends/docker/docker-backend.js";
import { classifyExit } from "../src/exit-reason.js";

// The docker backend against this machine's Docker engine, without the rest of the system:
// how a replica's end is told (setup's exit code), a stop that SIGTERM does not end, a missing
// image, and which containers a provisioner finds after a restart. Skipped, saying why, where
// no engine answers or the project's image is missing (`pnpm images` builds it).

const IMAGE = "switchyard:local";
const SOCKET = "/var/run/docker.sock";

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

const reason =
  (await engineGet("/_ping")) !== 200
    ? `no Docker engine answers on ${SOCKET} (start dockerd; .ci/run does)`
    : (await engineGet(`/images/${IMAGE}/json`)) !== 200
      ? `the image ${IMAGE} is not on the engine (build it: pnpm images)`
      : null;
if (reason) console.warn(`services/provisioner/test/docker-backend.test.ts skipped: ${reason}`);

const dirs: string[] = [];
const backends: DockerBackend[] = [];

interface Watched {
  b: DockerBackend;
  /** The next event of this type. */
  next: (type: BackendEvent["type"]) => Promise<BackendEvent>;
}

function backend(stateDir?: string): Watched {
  const dir = stateDir ?? mkdtempSync(join(tmpdir(), "yard-docker-"));
  if (!stateDir) dirs.push(dir);
  const b = new DockerBackend({
    stateDir: dir,
    gpus: "",
    hostAddress: "127.0.0.1",
    terminateGraceMs: 1_000,
    defaultImage: IMAGE,
    network: "host",
    gpuDriver: "none",
    logger: silentLogger,
  });
  backends.push(b);
  let waiters: { type: string; resolve: (e: BackendEvent) => void }[] = [];
  b.onEvent((e) => {
    for (const w of waiters) if (w.type === e.type) w.resolve(e);
    waiters = waiters.filter((w) => w.type !== e.type);
  });
  const next = (type: BackendEvent["type"]) =>
    new Promise<BackendEvent>((resolve) => waiters.push({ type, resolve }));
  return { b, next };
}

function spec(o: { setup?: string; run: string; imageId?: string }): ResolvedSpec {
  const s = specRecord({ name: "box", run: o.run, setup: o.setup }).spec;
  return { ...s, resources: { ...s.resources, other: o.imageId ? { image_id: o.imageId } : {} } };
}

const containers = (b: DockerBackend) =>
  execFileSync("docker", ["ps", "-aq", "--no-trunc", "--filter", `label=dev.switchyard.scope=${b.scope}`], {
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean);

afterAll(async () => {
  for (const b of backends) {
    for (const id of containers(b)) execFileSync("docker", ["rm", "-f", id]);
    b.close();
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(reason !== null)("the docker backend on this machine's engine", () => {
  it("setup exiting 3 ends the container: SetupFailed with the code, the container removed", async () => {
    const { b, next } = backend();
    const ended = next("exited");
    const l = await b.launch({
      service: "box",
      id: 1,
      revision: 1,
      spec: spec({ setup: "echo preparing\nexit 3", run: "sleep 1000" }),
      port: 0,
      gpuIndices: [],
    });
    const e = await ended;
    expect(e).toMatchObject({ type: "exited", service: "box", id: 1 });
    if (e.type !== "exited") return;
    expect(classifyExit(e.exit)).toMatchObject({
      reason: "SetupFailed",
      message: "setup exited with code 3",
    });
    expect(b.logTail("box", 1, [], false)).toEqual(["preparing"]);
    await expect.poll(() => containers(b), { timeout: 10_000 }).not.toContain(l.handle);
  }, 120_000);

  it("a run that ignores SIGTERM is killed after the grace; nothing is left", async () => {
    const { b, next } = backend();
    const started = next("run_started");
    await b.launch({
      service: "box",
      id: 2,
      revision: 1,
      spec: spec({ run: "trap '' TERM\necho trap set\nwhile :; do sleep 0.2; done" }),
      port: 0,
      gpuIndices: [],
    });
    expect(await started).toMatchObject({ type: "run_started", id: 2 });
    await b.terminate("box", 2, null);
    expect(containers(b)).toEqual([]);
    expect(b.running("box", 2)).toBe(false);
  }, 120_000);

  it("an image the engine lacks: the launch fails saying to build it", async () => {
    const { b } = backend();
    await expect(
      b.launch({
        service: "box",
        id: 3,
        revision: 1,
        spec: spec({ run: "sleep 1", imageId: "docker:switchyard-absent:never" }),
        port: 0,
        gpuIndices: [],
      }),
    ).rejects.toThrow(/image switchyard-absent:never is not on the Docker engine .*pnpm images/);
    expect(containers(b)).toEqual([]);
  }, 60_000);

  it("a new backend on the same state dir lists and adopts the running container; another state dir sees none", async () => {
    const first = backend();
    const l = await first.b.launch({
      service: "box",
      id: 4,
      revision: 1,
      spec: spec({ run: "echo up\nexec sleep 1000" }),
      port: 0,
      gpuIndices: [],
    });
    first.b.close(); // the provisioner went away; its container runs on
    const again = backend(dirs[dirs.length - 1]);
    expect(await again.b.list()).toEqual([
      { service: "box", id: 4, handle: l.handle, running: true, runStarted: expect.any(Boolean) },
    ]);
    expect(await backend().b.list()).toEqual([]);
    const found = (await again.b.list())[0];
    again.b.adopt(found);
    // Adopted: its end is seen (the engine's die event), told as a kill with no status.
    const ended = again.next("exited");
    execFileSync("docker", ["kill", l.handle]);
    expect(await ended).toMatchObject({ type: "exited", id: 4, exit: { stage: "unknown", code: 137 } });
  }, 120_000);
});
