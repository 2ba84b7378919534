import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { dirname } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { withRuntime } from "./daemon-json.js";
import { mustRun, run } from "./exec.js";
import { type CacheLayout, PAUSE_IMAGE, RUNTIME_NAME, RUNTIME_PATH } from "./layout.js";

const DAEMON_JSON = "/etc/docker/daemon.json";
const WRAPPER_SRC = fileURLToPath(new URL("../files/runc-oomclamp", import.meta.url));

/** Docker's default runtime, or an error saying why dockerd cannot be used. */
export async function dockerDefaultRuntime(): Promise<string> {
  const r = await run("docker", ["info", "--format", "{{.DefaultRuntime}}"]);
  if (r.code !== 0)
    throw new Error(
      `dockerd is not reachable (docker info: ${(r.stderr || r.stdout).trim().split("\n").pop()})`,
    );
  return r.stdout.trim();
}

/**
 * Make the runc wrapper (files/runc-oomclamp) Docker's default runtime, without restarting
 * dockerd: install it, add it to /etc/docker/daemon.json as a named runtime and the default, and
 * send dockerd SIGHUP (runtimes and default-runtime are reloadable). Containers already running
 * are not touched; every later container, ours or anyone's, is created through the wrapper,
 * which changes nothing but a negative oom_score_adj.
 */
export async function ensureRuntime(say: (s: string) => void): Promise<void> {
  const wrapper = readFileSync(WRAPPER_SRC, "utf8");
  if (!existsSync(RUNTIME_PATH) || readFileSync(RUNTIME_PATH, "utf8") !== wrapper) {
    mkdirSync(dirname(RUNTIME_PATH), { recursive: true });
    // A new file renamed over the old one: a runc call running the old script reads on unharmed.
    const tmp = `${RUNTIME_PATH}.new`;
    copyFileSync(WRAPPER_SRC, tmp);
    chmodSync(tmp, 0o755);
    renameSync(tmp, RUNTIME_PATH);
    say(`installed the runc wrapper ${RUNTIME_PATH}`);
  }
  if ((await dockerDefaultRuntime()) === RUNTIME_NAME) return;
  const current = existsSync(DAEMON_JSON) ? readFileSync(DAEMON_JSON, "utf8") : null;
  const next = withRuntime(current, RUNTIME_NAME, RUNTIME_PATH);
  if (!next.ok) throw new Error(next.error);
  if (next.changed) {
    mkdirSync(dirname(DAEMON_JSON), { recursive: true });
    writeFileSync(DAEMON_JSON, next.text);
    say(`${DAEMON_JSON}: runtime "${RUNTIME_NAME}" added and made the default`);
  }
  const pidText = existsSync("/var/run/docker.pid") ? readFileSync("/var/run/docker.pid", "utf8").trim() : "";
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 1)
    throw new Error(
      `cannot find dockerd's pid (/var/run/docker.pid) to reload ${DAEMON_JSON}; reload or restart dockerd`,
    );
  say(`reloading dockerd's configuration (SIGHUP to pid ${pid}; no restart)`);
  process.kill(pid, "SIGHUP");
  // dockerd reloads asynchronously and reports it nowhere we can await: ask until it shows.
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if ((await dockerDefaultRuntime()) === RUNTIME_NAME) return;
    await delay(200);
  }
  throw new Error(
    `dockerd did not take "${RUNTIME_NAME}" as its default runtime after SIGHUP (a --default-runtime flag on its command line would override ${DAEMON_JSON}); see docs/cluster.md`,
  );
}

export async function imageExists(ref: string): Promise<boolean> {
  return (await run("docker", ["image", "inspect", "--format", "{{.Id}}", ref])).code === 0;
}

/** The pod sandbox image, made from the cache's static pause binary (no registry to pull it from). */
export async function ensurePauseImage(cache: CacheLayout, say: (s: string) => void): Promise<void> {
  if (await imageExists(PAUSE_IMAGE)) return;
  say(`importing the pod sandbox image ${PAUSE_IMAGE}`);
  await mustRun("sh", [
    "-c",
    `tar -C "$1" -c pause | docker import --change 'ENTRYPOINT ["/pause"]' - "$2"`,
    "sh",
    cache.bin,
    PAUSE_IMAGE,
  ]);
}

/** Containers the kubelet made (dockershim labels each with its pod's namespace). */
export async function podContainers(): Promise<string[]> {
  const r = await run("docker", ["ps", "-aq", "--filter", "label=io.kubernetes.pod.namespace"]);
  return r.code === 0 ? r.stdout.split("\n").filter(Boolean) : [];
}

export async function removeContainers(ids: string[]): Promise<void> {
  if (ids.length) await run("docker", ["rm", "-f", "-v", ...ids]);
}
