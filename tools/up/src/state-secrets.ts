import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The secrets `pnpm start` makes for itself and keeps in its state dir, each in a file of mode
 * 0600 made on the first start and read on every later one: JetStream's encryption key (the
 * store must stay readable across restarts) and the spec HTTP API's bearer token. Their values
 * go to the one process that needs them (the key in nats-server's environment, the token file's
 * path to the spec service) and are never printed: every message here names a path, not a value.
 */
export const JS_KEY_FILE = "nats-js.key";
export const SPEC_TOKEN_FILE = "spec-api.token";

/** 32 random bytes, URL-safe (43 characters): the same strength as the example's token. */
export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * nats-server parses a `$VAR`'s value as a config value, not as a string: a key that starts with
 * a digit or `-`, or holds a space, makes it refuse the config. A letter, then letters, digits,
 * `_` or `-`, 32 or more in all, is read as the string it is.
 */
export const JS_KEY_FORMAT = /^[A-Za-z][\w-]{31,}$/;
export const JS_KEY_RULE = "a letter, then letters, digits, _ or -, 32 characters or more";

/** 32 random bytes in hex behind a letter (65 characters; JS_KEY_FORMAT). */
export function newJsKey(): string {
  return `k${randomBytes(32).toString("hex")}`;
}

/** What to do about JetStream's key. Pure: the facts in, the action out. */
export type KeyAction = "read" | "create" | "lost";

/**
 * An existing key file is read. Without one, a new key is made, unless the store already holds
 * encrypted streams: a new key could not read them, so that is a lost key, for a person to
 * decide. (A store written before encryption was on is plaintext: a new key is fine, nats-server
 * reads the old blocks as they are and encrypts the new ones.)
 */
export function jsKeyAction(s: { keyFile: boolean; encryptedStore: boolean }): KeyAction {
  if (s.keyFile) return "read";
  return s.encryptedStore ? "lost" : "create";
}

export function lostKeyMessage(keyPath: string, storeDir: string): string {
  return `the JetStream store in ${storeDir} is encrypted, but its key file ${keyPath} is gone. Put the key file back (mode 0600) and start again; or, to start over with an empty store (every published service, replica record and event is lost), remove ${storeDir}.`;
}

export function wrongKeyMessage(keyPath: string, storeDir: string): string {
  return `nats-server cannot decrypt the JetStream store in ${storeDir} with the key in ${keyPath} (the key was replaced). Put the original key file back and start again; or, to start over with an empty store (every published service is lost), remove ${storeDir} and ${keyPath}.`;
}

/** Does the store hold a stream written with encryption on? (nats-server keeps its key beside it.) */
export function storeIsEncrypted(storeDir: string): boolean {
  const root = join(storeDir, "jetstream");
  if (!existsSync(root)) return false;
  return readdirSync(root, { recursive: true, encoding: "utf8" }).some(
    (f) => f === "meta.key" || f.endsWith("/meta.key"),
  );
}

/** A state-dir secret that cannot be used; the message names the file and the cause, never the value. */
export class SecretFileError extends Error {}

/** What a secret must look like: a check (null when fine, else what is wrong) and a maker. */
export interface SecretKind {
  check(value: string): string | null;
  make(): string;
}

export const TOKEN: SecretKind = {
  check: (v) => (v.length >= 16 ? null : "does not hold a secret of 16 characters or more"),
  make: newSecret,
};

export const JS_KEY: SecretKind = {
  check: (v) => (JS_KEY_FORMAT.test(v) ? null : `does not hold a key nats-server can read (${JS_KEY_RULE})`),
  make: newJsKey,
};

/** Read a secret file: mode 0600 or stricter, its first line a secret of `kind`. */
export function readSecretFile(path: string, kind: SecretKind = TOKEN): string {
  let text: string;
  try {
    if ((statSync(path).mode & 0o077) !== 0)
      throw new SecretFileError(`${path} is readable by other users: chmod 600 it and start again`);
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (err instanceof SecretFileError) throw err;
    throw new SecretFileError(`${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const value = text.split(/\r?\n/)[0].trim();
  const wrong = kind.check(value);
  if (wrong) throw new SecretFileError(`${path} ${wrong}`);
  return value;
}

/** Make a secret file (mode 0600; never over an existing one) or read the one a previous start made. */
export function ensureSecretFile(
  path: string,
  kind: SecretKind = TOKEN,
): { value: string; created: boolean } {
  if (existsSync(path)) return { value: readSecretFile(path, kind), created: false };
  const value = kind.make();
  try {
    writeFileSync(path, `${value}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    // Another launcher on the same state dir made it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === "EEXIST")
      return { value: readSecretFile(path), created: false };
    throw new SecretFileError(
      `${path} cannot be written (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  return { value, created: true };
}

/** JetStream's key for the store in `storeDir`, kept in `<stateDir>/nats-js.key`. */
export function jetStreamKey(stateDir: string, storeDir: string): { value: string; created: boolean } {
  const path = join(stateDir, JS_KEY_FILE);
  const action = jsKeyAction({ keyFile: existsSync(path), encryptedStore: storeIsEncrypted(storeDir) });
  if (action === "lost") throw new SecretFileError(lostKeyMessage(path, storeDir));
  return ensureSecretFile(path, JS_KEY);
}
