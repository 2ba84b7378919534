import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectBus, createBucket, getJson, openBucket, putJson, silentLogger } from "@switchyard/bus";
import { Buckets } from "@switchyard/contracts";
import { natsServerBinary, type Proc, REPO_ROOT, startProc } from "@switchyard/testkit";
import {
  BUS_USERS,
  devPassword,
  JS_KEY_VAR,
  NATS_CONF_PATH,
  NATS_SERVER_CONF_PATH,
  passwordVar,
  renderServerConf,
} from "@switchyard/up";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";

/**
 * deploy/nats/server.conf, what `pnpm start` and compose run: JetStream's store encrypted at
 * rest. Started through deploy/nats/with-js-key.sh, compose's entrypoint for the nats service.
 */
const Any = z.unknown();
beforeAll(() => {
  for (const u of BUS_USERS) process.env[passwordVar(u)] = devPassword(u);
});

describe("deploy/nats/server.conf: JetStream encrypted at rest", () => {
  const MARKER = "MARKER-at-rest-5f3a9c";
  const WITH_KEY = join(REPO_ROOT, "deploy", "nats", "with-js-key.sh");
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const newDir = () => {
    const d = mkdtempSync(join(tmpdir(), "yard-js-at-rest-"));
    dirs.push(d);
    return d;
  };
  const paths = (dir: string) => ({ store: join(dir, "store"), key: join(dir, "key", "js.key") });
  const serverArgs = (conf: string, store: string) => [
    "-c",
    conf,
    "-a",
    "127.0.0.1",
    "-p",
    "-1",
    "-sd",
    store,
  ];

  /** with-js-key.sh as compose runs it; `env` on top (YARD_NATS_JS_KEY unset unless given). */
  function startWithKey(dir: string, env: Record<string, string> = {}): Proc {
    const { store, key } = paths(dir);
    return startProc("sh", [WITH_KEY, ...serverArgs(NATS_SERVER_CONF_PATH, store)], {
      env: {
        NATS_SERVER_BIN: natsServerBinary()!,
        YARD_NATS_JS_KEY_FILE: key,
        YARD_NATS_STORE_DIR: store,
        [JS_KEY_VAR]: "",
        ...env,
      },
    });
  }
  async function urlOf(p: Proc): Promise<string> {
    const port = /:(\d+)$/.exec(await p.waitForLine(/Listening for client connections on \S+:\d+$/))![1];
    await p.waitForLine(/Server is ready/);
    return `nats://127.0.0.1:${port}`;
  }
  const asSpec = (url: string) =>
    connectBus({ url, name: "at-rest", user: "spec", pass: devPassword("spec"), logger: silentLogger });
  async function putMarker(url: string): Promise<void> {
    const nc = await asSpec(url);
    try {
      await putJson(await createBucket(nc, Buckets.specs), "llm", { token: MARKER });
    } finally {
      await nc.close();
    }
  }
  async function readMarker(url: string): Promise<unknown> {
    const nc = await asSpec(url);
    try {
      return (await getJson(await openBucket(nc, Buckets.specs), "llm", Any))?.value;
    } finally {
      await nc.close();
    }
  }
  /** Files under `dir` whose bytes contain `needle`. */
  const filesHolding = (dir: string, needle: string) =>
    readdirSync(dir, { recursive: true, encoding: "utf8" })
      .map((f) => join(dir, f))
      .filter((f) => statSync(f).isFile() && readFileSync(f).includes(needle));

  it("is generated: yard.conf's users with the encrypted jetstream block", () => {
    expect(readFileSync(NATS_SERVER_CONF_PATH, "utf8")).toBe(renderServerConf());
    expect(renderServerConf()).toContain(`jetstream {\n  cipher: chachapoly\n  key: $${JS_KEY_VAR}\n}`);
  });

  it("without it (yard.conf) the value lies on disk in the clear: what the next test must not find", async () => {
    const { store } = paths(newDir());
    const nats = startProc(natsServerBinary()!, serverArgs(NATS_CONF_PATH, store));
    try {
      await putMarker(await urlOf(nats));
    } finally {
      await nats.stop();
    }
    expect(filesHolding(store, MARKER).length).toBeGreaterThan(0);
  });

  it("keeps no value in the clear; the key is made once (0600), never in argv, and reads the store back after a restart", async () => {
    const dir = newDir();
    const { store, key } = paths(dir);
    const first = startWithKey(dir);
    let made: string;
    try {
      const url = await urlOf(first);
      expect(first.lines.some((l) => l.includes("Encryption:      ChaCha20-Poly1305"))).toBe(true);
      made = readFileSync(key, "utf8").trim();
      expect(made).toMatch(/^k[0-9a-f]{64}$/);
      expect(statSync(key).mode & 0o777).toBe(0o600);
      // exec: the server is the script's own process; the key is in its environment only.
      expect(readFileSync(`/proc/${first.child.pid}/cmdline`, "utf8")).not.toContain(made);
      expect(readFileSync(`/proc/${first.child.pid}/environ`, "utf8").split("\0")).toContain(
        `${JS_KEY_VAR}=${made}`,
      );
      await putMarker(url);
    } finally {
      await first.stop();
    }
    expect(filesHolding(store, MARKER)).toEqual([]);
    expect(first.lines.filter((l) => l.includes(made))).toEqual([]);

    const second = startWithKey(dir);
    try {
      expect(await readMarker(await urlOf(second))).toEqual({ token: MARKER });
      expect(readFileSync(key, "utf8").trim()).toBe(made);
    } finally {
      await second.stop();
    }
  });

  it("a lost key: refuses to start and says what to do; a wrong key: the store does not open", async () => {
    const dir = newDir();
    const { key } = paths(dir);
    const first = startWithKey(dir);
    try {
      await putMarker(await urlOf(first));
    } finally {
      await first.stop();
    }
    rmSync(key);
    const lost = startWithKey(dir);
    expect(await lost.exited).toBe(1);
    expect(lost.lines.join("\n")).toMatch(
      /store in \S+ is encrypted, but its key file \S+ is gone[\s\S]*Put the key back/,
    );
    // A different key, given as compose's .env would: nats-server cannot decrypt the stream.
    const wrong = startWithKey(dir, { [JS_KEY_VAR]: "a-different-key-0123456789abcdef" });
    try {
      await wrong.waitForLine(/Error decrypting/);
    } finally {
      await wrong.stop();
    }
  });

  it("refuses a given key nats-server would misread, without printing it", async () => {
    // nats-server parses the variable as a config value: a leading digit makes it a number.
    for (const bad of [`3${"e".repeat(40)}`, "short-key", `a key with spaces ${"x".repeat(20)}`]) {
      const p = startWithKey(newDir(), { [JS_KEY_VAR]: bad });
      expect(await p.exited).toBe(1);
      expect(p.lines.join("\n")).toMatch(/YARD_NATS_JS_KEY does not hold a key nats-server can read/);
      expect(p.lines.filter((l) => l.includes(bad))).toEqual([]);
    }
  });
});
