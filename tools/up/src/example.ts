import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { call, type NatsConnection, openBucket, silentLogger, watchBucket } from "@switchyard/bus";
import {
  type ApplyRequestInput,
  type ApplyResult,
  Buckets,
  EndpointRecord,
  ReplicaRecord,
  Subjects,
} from "@switchyard/contracts";
import { request } from "undici";

/**
 * A bearer token for the example: 32 random bytes in hex. Shown once, never logged. Not
 * base64url: a token starting with `-` is read as an option by `--api-key $AUTH_TOKEN` (vLLM's
 * argparse and the fake engine alike), and the replica never starts.
 */
export function newToken(): string {
  return randomBytes(32).toString("hex");
}

/**
 * Publish the example spec through the spec service (as the `cli` NATS user) with the token as
 * its AUTH_TOKEN env; returns the service name and the new revision.
 */
export async function publishExample(
  nc: NatsConnection,
  path: string,
  token: string,
): Promise<{ name: string; revision: number }> {
  const req: ApplyRequestInput = {
    yaml: readFileSync(path, "utf8"),
    name: basename(path, extname(path)),
    env: { AUTH_TOKEN: token },
  };
  const res = await call<ApplyResult>(nc, Subjects.specApply, req, 30_000);
  return { name: res.record.name, revision: res.record.revision };
}

/**
 * Resolve once every endpoint of `service` is of `revision` and there is at least one (the
 * service is READY with the token just published). Phase changes are reported as they happen.
 */
export async function waitServiceReady(
  nc: NatsConnection,
  service: string,
  revision: number,
  progress: (line: string) => void,
): Promise<string[]> {
  const replicas = await openBucket(nc, Buckets.replicas, { logger: silentLogger });
  const endpoints = await openBucket(nc, Buckets.endpoints, { logger: silentLogger });
  const phases = new Map<string, string>();
  const rw = watchBucket(
    replicas,
    ReplicaRecord,
    (c) => {
      if (c.op !== "put" || c.value.service !== service || c.value.revision !== revision) return;
      const r = c.value;
      const shown = `${r.phase}${r.reason ? ` (${r.reason}: ${r.message ?? ""})` : ""}`;
      if (phases.get(c.key) === shown) return;
      phases.set(c.key, shown);
      progress(`${service} replica ${r.id}: ${shown}`);
    },
    silentLogger,
    `${service}.>`,
  );
  const current = new Map<string, EndpointRecord>();
  try {
    return await new Promise<string[]>((resolve) => {
      const ew = watchBucket(
        endpoints,
        EndpointRecord,
        (c) => {
          if (c.op === "put") current.set(c.key, c.value);
          else current.delete(c.key);
          const all = [...current.values()];
          if (all.length > 0 && all.every((e) => e.revision === revision)) {
            ew.stop();
            resolve(all.map((e) => e.url));
          }
        },
        silentLogger,
        `${service}.>`,
      );
    });
  } finally {
    rw.stop();
  }
}

/**
 * Resolve once the proxy's admin `/-/routes` lists every one of `urls` for `service` (its
 * route table has applied the endpoints). Propagation takes milliseconds; looks every 100 ms.
 */
export async function waitProxyRoutes(
  adminUrl: string,
  service: string,
  urls: string[],
  timeoutMs = 30_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await request(`${adminUrl}/-/routes`);
      const view = (await res.body.json()) as { services?: { name: string; replicas: { url: string }[] }[] };
      const svc = view.services?.find((s) => s.name === service);
      const have = new Set(svc?.replicas.map((r) => r.url) ?? []);
      if (urls.every((u) => have.has(u))) return;
    } catch {
      // admin server not answering yet
    }
    if (Date.now() > end)
      throw new Error(`the proxy at ${adminUrl} did not route ${service} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
