import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { connectBus, silentLogger } from "@switchyard/bus";
import type { BusUser } from "@switchyard/contracts";
import { type Child, spawnChild } from "./child.js";
import type { NatsProbe } from "./nats-choice.js";

export const INSTALL_HINT = `nats-server was not found on the PATH or in /usr/sbin.
Install it, then run \`pnpm start\` again:
  Debian/Ubuntu:  sudo apt-get install nats-server
  macOS:          brew install nats-server
  other:          https://docs.nats.io/running-a-nats-service/introduction/installation
Or point NATS_URL at a nats-server started with deploy/nats/server.conf.`;

export function findNatsServer(env: NodeJS.ProcessEnv): string | null {
  if (env.NATS_SERVER_BIN) return existsSync(env.NATS_SERVER_BIN) ? env.NATS_SERVER_BIN : null;
  const dirs = [...(env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/bin"];
  for (const d of dirs) if (d && existsSync(join(d, "nats-server"))) return join(d, "nats-server");
  return null;
}

/** Does a NATS answer at `url`, does it require auth, and does it accept each of our users? */
export async function probeNats(url: string, passwords: Record<BusUser, string>): Promise<NatsProbe> {
  for (const [user, pass] of Object.entries(passwords)) {
    try {
      const nc = await connectBus({
        url,
        name: "yard-up-probe",
        user,
        pass,
        timeoutMs: 2_000,
        logger: silentLogger,
      });
      const authRequired = nc.info?.auth_required === true;
      await nc.close();
      if (!authRequired) return { kind: "no-auth" };
    } catch (err) {
      if (/authoriz|authentic/i.test(String(err))) return { kind: "refused", user };
      return { kind: "no-answer" };
    }
  }
  return { kind: "ok" };
}

/**
 * nats-server's line when a stream's metadata does not decrypt: the key is not the store's. It
 * warns and serves on without those streams (and refuses to create them again), so the launcher
 * must stop on it, not the server.
 */
export const WRONG_KEY_LINE = /Error decrypting/;

/**
 * Start nats-server: `ready` resolves with its URL once it serves, rejects if it exits first or
 * says it cannot decrypt its store (with `wrongKey` as the error).
 */
export function spawnNatsServer(
  bin: string,
  args: string[],
  env: Record<string, string>,
  onLine: (line: string) => void,
  wrongKey: string,
): { child: Child; ready: Promise<string> } {
  let port = 0;
  let readyResolve!: (url: string) => void;
  let refuse!: (err: Error) => void;
  const ready = new Promise<string>((resolve, reject) => {
    readyResolve = resolve;
    refuse = reject;
  });
  const child = spawnChild(bin, args, { env: { ...process.env, ...env } }, (line) => {
    onLine(line);
    if (WRONG_KEY_LINE.test(line)) refuse(new Error(wrongKey));
    const m = /Listening for client connections on [^\s]+:(\d+)/.exec(line);
    if (m) port = Number(m[1]);
    if (/Server is ready/.test(line)) readyResolve(`nats://127.0.0.1:${port}`);
  });
  const started = Promise.race([
    ready,
    child.exited.then((code): never => {
      throw new Error(`nats-server exited (${code}) before it was ready; see its lines above`);
    }),
  ]);
  started.catch(() => {});
  return { child, ready: started };
}
