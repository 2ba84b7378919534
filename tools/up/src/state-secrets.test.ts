import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ensureSecretFile,
  JS_KEY,
  JS_KEY_FILE,
  JS_KEY_FORMAT,
  jetStreamKey,
  jsKeyAction,
  readSecretFile,
  SecretFileError,
  storeIsEncrypted,
} from "./state-secrets.js";

describe("jsKeyAction", () => {
  it.each([
    { keyFile: true, encryptedStore: true, action: "read" },
    { keyFile: true, encryptedStore: false, action: "read" },
    { keyFile: false, encryptedStore: false, action: "create" }, // first start, or a plaintext store
    { keyFile: false, encryptedStore: true, action: "lost" },
  ] as const)("key file $keyFile, encrypted store $encryptedStore → $action", ({ action, ...facts }) => {
    expect(jsKeyAction(facts)).toBe(action);
  });
});

describe("JetStream key format (nats-server parses the variable's value as config)", () => {
  it.each([
    { key: `k${"0".repeat(64)}`, ok: true },
    { key: `Ab_-${"x".repeat(28)}`, ok: true },
    { key: `3${"e".repeat(40)}`, ok: false }, // a number to nats-server
    { key: `-${"a".repeat(40)}`, ok: false },
    { key: `a b${"c".repeat(40)}`, ok: false },
    { key: "kshort", ok: false },
  ])("$key → $ok", ({ key, ok }) => {
    expect(JS_KEY.check(key) === null).toBe(ok);
  });

  it("every made key is readable", () => {
    for (let i = 0; i < 50; i++) expect(JS_KEY.make()).toMatch(JS_KEY_FORMAT);
  });
});

describe("state-dir secret files", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "yard-secrets-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("makes a 0600 file once and reads the same value on every later start", () => {
    const path = join(dir, "spec-api.token");
    const first = ensureSecretFile(path);
    expect(first.created).toBe(true);
    expect(first.value).toMatch(/^[\w-]{43}$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(ensureSecretFile(path)).toEqual({ value: first.value, created: false });
    expect(ensureSecretFile(join(dir, "other")).value).not.toBe(first.value);
  });

  it("refuses a file other users can read, or one without a secret, naming the file but never the value", () => {
    const path = join(dir, "t");
    writeFileSync(path, "a-secret-of-enough-length\n", { mode: 0o644 });
    chmodSync(path, 0o644);
    expect(() => readSecretFile(path)).toThrow(
      new SecretFileError(`${path} is readable by other users: chmod 600 it and start again`),
    );
    chmodSync(path, 0o600);
    expect(readSecretFile(path)).toBe("a-secret-of-enough-length");
    writeFileSync(path, "short\n");
    expect(() => readSecretFile(path)).toThrow(/does not hold a secret of 16 characters/);
    expect(() => readSecretFile(path)).not.toThrow(/short/);
  });

  it("JetStream's key: made for an empty or plaintext store, refused when an encrypted store lost it", () => {
    const store = join(dir, "nats");
    const key = jetStreamKey(dir, store);
    expect(key.created).toBe(true);
    expect(readFileSync(join(dir, JS_KEY_FILE), "utf8").trim()).toBe(key.value);
    expect(jetStreamKey(dir, store)).toEqual({ value: key.value, created: false });
    // nats-server keeps each encrypted stream's key (wrapped by ours) in meta.key beside it.
    const stream = join(store, "jetstream", "$G", "streams", "KV_yard-specs");
    mkdirSync(stream, { recursive: true });
    expect(storeIsEncrypted(store)).toBe(false);
    writeFileSync(join(stream, "meta.key"), "x");
    expect(storeIsEncrypted(store)).toBe(true);
    expect(key.value).toMatch(JS_KEY_FORMAT);
    rmSync(join(dir, JS_KEY_FILE));
    expect(() => jetStreamKey(dir, store)).toThrow(
      new RegExp(`encrypted, but its key file ${join(dir, JS_KEY_FILE)} is gone\\. Put the key file back`),
    );
  });
});
