import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import { type Issue, type TlsMaterial, YardError } from "@switchyard/contracts";

/** What a valid `service.tls` pair says about itself (nothing secret). */
export interface CertFacts {
  /** SHA-256 fingerprint of the leaf, `AA:BB:...` as openssl prints it. */
  fingerprint256: string;
  /** The leaf's notAfter, ISO 8601. */
  notAfter: string;
  subject: string;
}

export type TlsCheck = { ok: true; facts: CertFacts } | { ok: false; issues: Issue[] };

const CERT_PATH = "service.tls.certfile";
const KEY_PATH = "service.tls.keyfile";

/**
 * Whether `service.tls`'s files hold what a TLS server can use: a PEM certificate (chain, leaf
 * first), an unencrypted PEM private key, and the key is the certificate's. Messages name the
 * field and never quote the files (the key is a secret; the certificate is not, but a key pasted
 * into `certfile` would be).
 */
export function checkTlsMaterial(m: TlsMaterial): TlsCheck {
  const issues: Issue[] = [];
  let leaf: X509Certificate | null = null;
  let key: KeyObject | null = null;
  if (!m.cert.includes("-----BEGIN CERTIFICATE-----"))
    issues.push({ path: CERT_PATH, message: "is not a PEM certificate (no BEGIN CERTIFICATE block)" });
  else {
    try {
      leaf = new X509Certificate(m.cert);
    } catch {
      issues.push({ path: CERT_PATH, message: "holds a PEM certificate that does not parse" });
    }
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(m.key))
    issues.push({
      path: KEY_PATH,
      message: "is encrypted: give an unencrypted key (the proxy has no passphrase)",
    });
  else if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(m.key))
    issues.push({ path: KEY_PATH, message: "is not a PEM private key (no BEGIN PRIVATE KEY block)" });
  else {
    try {
      key = createPrivateKey(m.key);
    } catch {
      issues.push({ path: KEY_PATH, message: "holds a PEM private key that does not parse" });
    }
  }
  if (leaf && key && !leaf.checkPrivateKey(key))
    issues.push({ path: KEY_PATH, message: "is not the private key of the certificate in certfile" });
  if (issues.length === 0) {
    // What the proxy will do with them: a chain OpenSSL refuses must fail here, not there.
    try {
      createSecureContext({ cert: m.cert, key: m.key });
    } catch {
      issues.push({ path: CERT_PATH, message: "is refused by TLS together with keyfile" });
    }
  }
  if (issues.length > 0 || !leaf) return { ok: false, issues };
  return {
    ok: true,
    facts: {
      fingerprint256: leaf.fingerprint256,
      notAfter: new Date(leaf.validTo).toISOString(),
      subject: leaf.subject,
    },
  };
}

/** The error of a pair checkTlsMaterial refused: the same words from `yard up --dry-run` and the spec service. */
export function tlsMaterialError(issues: Issue[]): YardError {
  return new YardError(
    "SY_ERR_SPEC_INVALID",
    "service.tls files are not a usable certificate and key",
    issues,
  );
}
