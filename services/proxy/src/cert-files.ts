import { createPrivateKey, X509Certificate } from "node:crypto";
import { type FSWatcher, readFileSync, watch } from "node:fs";
import { dirname } from "node:path";
import { createSecureContext, type SecureContext } from "node:tls";
import { type Issue, YardError } from "@switchyard/contracts";

/** The proxy-wide certificate and key files, with the env vars that name them (for messages). */
export interface CertFiles {
  cert: { path: string; env: string };
  key: { path: string; env: string };
}

/** A usable pair: the PEM text, its context, and what may be logged about it. */
export interface CertPair {
  cert: string;
  key: string;
  context: SecureContext;
  fingerprint256: string;
  notAfter: string;
}

/**
 * Read and check a certificate/key pair. Throws SY_ERR_CONFIG whose issue names the env var
 * and the path, never the files' text (the key is a secret).
 */
export function readCertPair(files: CertFiles): CertPair {
  const cert = readPem(files.cert);
  const key = readPem(files.key);
  return certPair(cert, key, files);
}

/** Check PEM text as a pair (see readCertPair); also used for yard-tls records. */
export function certPair(cert: string, key: string, files: CertFiles): CertPair {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    throw configError(files.cert, "is not a PEM certificate");
  }
  try {
    createPrivateKey(key);
  } catch {
    throw configError(files.key, "is not an unencrypted PEM private key");
  }
  let context: SecureContext;
  try {
    context = createSecureContext({ cert, key });
  } catch (err) {
    // OpenSSL's reason ("key values mismatch", ...) names no byte of either file.
    throw configError(files.key, `is not usable with ${files.cert.env} (${reason(err)})`);
  }
  return {
    cert,
    key,
    context,
    fingerprint256: leaf.fingerprint256,
    notAfter: new Date(leaf.validTo).toISOString(),
  };
}

function readPem(f: { path: string; env: string }): string {
  try {
    return readFileSync(f.path, "utf8");
  } catch (err) {
    throw configError(f, `cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

function configError(f: { path: string; env: string }, what: string): YardError {
  const issue: Issue = { path: f.env, message: `${f.path} ${what}` };
  return new YardError("SY_ERR_CONFIG", `invalid configuration: ${f.env}`, [issue]);
}

function reason(err: unknown): string {
  const m = /routines::(.*)$/.exec(String((err as Error).message ?? err));
  return m ? m[1] : "refused by OpenSSL";
}

/**
 * Call `onChange` (debounced) whenever something changes in the directories of the two files:
 * a directory watch sees an editor's in-place write, an atomic rename over the file and a
 * Kubernetes secret's `..data` symlink swap alike. The caller re-reads and compares. Returns
 * stop().
 */
export function watchCertFiles(
  files: CertFiles,
  onChange: () => void,
  onError: (err: unknown) => void,
  debounceMs = 100,
): () => void {
  let timer: NodeJS.Timeout | null = null;
  const fire = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, debounceMs);
  };
  const watchers: FSWatcher[] = [];
  for (const dir of new Set([dirname(files.cert.path), dirname(files.key.path)])) {
    const w = watch(dir, { persistent: false }, fire);
    w.on("error", onError);
    watchers.push(w);
  }
  return () => {
    if (timer) clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
