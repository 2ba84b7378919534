import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type KV, putJson } from "@switchyard/bus";
import { replicaKey } from "@switchyard/contracts";
import { endpointRecord, type Proc, startProc, startTs } from "@switchyard/testkit";
import { buildProxy, proxyArgs } from "../scale/procs.js";

export interface Target {
  name: string;
  /** Base URL the load goes to. */
  url: string;
  /** The process whose CPU is charged to it (null: direct, no proxy). */
  pid: number | null;
  stop(): Promise<unknown>;
}

/** testkit's startTs with node flags of its own (`--cpu-prof` is refused in NODE_OPTIONS). */
function startNode(entry: string, args: string[], nodeFlags: string[], env: NodeJS.ProcessEnv = {}): Proc {
  if (nodeFlags.length === 0) return startTs(entry, args, env);
  return startProc(process.execPath, [...nodeFlags, "--import", "tsx", entry, ...args], { env });
}

const portOf = async (proc: Proc, re = /listening (\d+)/) =>
  Number(re.exec(await proc.waitForLine(re, 60_000))![1]);

export async function startUpstream(token: string): Promise<{ proc: Proc; url: string }> {
  const proc = startTs("bench/src/proxy/upstream.ts", ["0", token]);
  return { proc, url: `http://127.0.0.1:${await portOf(proc)}` };
}

/** The Node floor (floor.ts): node:http straight into undici Pool.dispatch, nothing else. */
export async function startFloor(upstream: string, nodeFlags: string[] = []): Promise<Target> {
  const proc = startNode("bench/src/proxy/floor.ts", [upstream], nodeFlags);
  const port = await portOf(proc);
  return {
    name: "node floor",
    url: `http://127.0.0.1:${port}`,
    pid: proc.child.pid!,
    stop: () => proc.stop(),
  };
}

export async function startBaseline(upstream: string): Promise<Target> {
  const proc = startTs("bench/src/proxy/baseline.ts", [upstream]);
  const port = await portOf(proc);
  return {
    name: "fastify+reply-from",
    url: `http://127.0.0.1:${port}`,
    pid: proc.child.pid!,
    stop: () => proc.stop(),
  };
}

/**
 * One Switchyard proxy process fed by a real nats-server (endpoints already in KV), run as
 * deployed: `node services/proxy/dist/main.mjs`, the bundle built from the current source first
 * (once per bench process).
 */
export async function startSwitchyard(
  natsUrl: string,
  env: NodeJS.ProcessEnv = {},
  nodeFlags: string[] = [],
): Promise<Target & { proc: Proc; admin: string }> {
  await buildProxy();
  const proc = startProc(process.execPath, proxyArgs(nodeFlags), {
    env: {
      NATS_URL: natsUrl,
      YARD_PROXY_HOST: "127.0.0.1",
      YARD_PROXY_PORT: "0",
      YARD_PROXY_ADMIN_PORT: "0",
      ...env,
    },
  });
  const addr = (l: string) => String(JSON.parse(l).address);
  const data = addr(await proc.waitForLine(/"server":"proxy".*"msg":"listening"/, 60_000));
  const admin = addr(await proc.waitForLine(/"server":"admin".*"msg":"listening"/, 60_000));
  // With workers each logs its own "ready"; the primary's (with the count) comes once all are.
  const workers = Number(env.YARD_PROXY_WORKERS ?? 1) > 1;
  await proc.waitForLine(workers ? /"workers":\d+,"msg":"ready"/ : /"msg":"ready"/, 60_000);
  return { name: "switchyard", url: data, admin, pid: proc.child.pid!, proc, stop: () => proc.stop() };
}

export function nginxAvailable(): boolean {
  try {
    execFileSync("nginx", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** nginx as a keep-alive reverse proxy with one worker (one process, like the others). */
export async function startNginx(upstream: string, port: number): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), "yard-bench-nginx-"));
  mkdirSync(join(dir, "logs"));
  const u = new URL(upstream);
  writeFileSync(
    join(dir, "nginx.conf"),
    `worker_processes 1;
error_log ${dir}/logs/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream up { server ${u.host}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; }
  }
}
`,
  );
  const proc = startProc("nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"]);
  // nginx prints nothing when it starts: wait until the port answers.
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { name: "nginx", url: `http://127.0.0.1:${port}`, pid: proc.child.pid!, stop: () => proc.stop() };
}

/** Put a ready endpoint as the prober does; resolves with its KV revision. */
export function putEndpoint(kv: KV, service: string, id: number, url: string): Promise<number> {
  return putJson(kv, replicaKey(service, id), endpointRecord({ service, replica_id: id, url }));
}
