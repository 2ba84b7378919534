import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { clusterAvailable } from "@switchyard/cluster";
import { Agent, request } from "undici";

/** The image every replica Pod and Switchyard Pod runs (`pnpm images`). */
export const IMAGE = "switchyard:local";

/** kubectl: the one `pnpm cluster` built (same version as the cluster), else the one on PATH. */
export function kubectlBinary(): string {
  const built = join(process.env.YARD_CLUSTER_CACHE || "/var/cache/switchyard/kubernetes", "bin", "kubectl");
  return existsSync(built) ? built : "kubectl";
}

export type Kube = { ok: true; kubeconfig: string } | { ok: false; reason: string };

/**
 * The local cluster and the project image, or why this suite cannot run and how to run it.
 * (`pnpm cluster up` starts a real Kubernetes 1.20 on this machine; `pnpm images` builds the image.)
 */
export async function kubeForTests(): Promise<Kube> {
  const how = "to run it: pnpm images && pnpm cluster up --gpus 2";
  const c = await clusterAvailable();
  if (!c.ok) return { ok: false, reason: `${c.reason}; the image too: pnpm images` };
  try {
    execFileSync("docker", ["image", "inspect", IMAGE], { stdio: "ignore", timeout: 20_000 });
  } catch {
    return { ok: false, reason: `the image ${IMAGE} is not in the local Docker engine (${how})` };
  }
  return { ok: true, kubeconfig: c.kubeconfig };
}

/** `kubectl ARGS` against the local cluster; resolves with stdout, rejects with stderr. */
export function kubectl(kubeconfig: string, args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      kubectlBinary(),
      ["--kubeconfig", kubeconfig, ...args],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`kubectl ${args.join(" ")}: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

// biome-ignore lint/suspicious/noExplicitAny: kubectl's JSON, read field by field
export async function kubectlJson(kubeconfig: string, args: string[]): Promise<any> {
  return JSON.parse(await kubectl(kubeconfig, [...args, "-o", "json"]));
}

/**
 * Idempotent requests (GET /v1/models with the token) through a proxy from `workers` loops at
 * once until stopped: how many were answered and which were not 200 (status or error).
 */
export function idempotentLoad(url: string, host: string, token: string, workers = 4) {
  const agent = new Agent({ connections: workers });
  let stop = false;
  let ok = 0;
  const failed: string[] = [];
  const loops = Array.from({ length: workers }, async () => {
    while (!stop) {
      try {
        const r = await request(`${url}/v1/models`, {
          headers: { host, authorization: `Bearer ${token}` },
          dispatcher: agent,
        });
        await r.body.arrayBuffer();
        if (r.statusCode === 200) ok++;
        else failed.push(`HTTP ${r.statusCode}`);
      } catch (err) {
        failed.push(String(err));
      }
    }
  });
  return {
    get ok() {
      return ok;
    },
    async stop() {
      stop = true;
      await Promise.all(loops);
      await agent.close();
      return { ok, failed };
    },
  };
}
