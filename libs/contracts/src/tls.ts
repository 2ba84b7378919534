// @pure: no I/O (tools/lint-boundaries checks it)
import { z } from "zod";
import { ServiceName } from "./names.js";

export const TLS_SCHEMA_VERSION = 1;

/** A PEM file of a certificate chain or a key is a few KiB; this leaves room for long chains. */
export const MAX_PEM_BYTES = 64 * 1024;
const Pem = z.string().min(1).max(MAX_PEM_BYTES);

/**
 * The contents of a spec's `service.tls` files, as `yard up` read them (the spec holds only
 * the paths): `cert` is the PEM chain of `certfile`, leaf first; `key` the PEM of `keyfile`,
 * a secret.
 */
export const TlsMaterial = z.strictObject({ cert: Pem, key: Pem });
export type TlsMaterial = z.infer<typeof TlsMaterial>;

/**
 * The KV value of `yard-tls[<service>]`: the certificate a proxy serves, by SNI, for
 * `<service>.<YARD_DOMAIN>`. Writer: spec service. Reader: proxy (and nothing else: it holds a
 * private key, which is why it is not in yard-services, whose records the CLI may read too).
 */
export const TlsRecord = z.object({
  schema: z.literal(TLS_SCHEMA_VERSION),
  name: ServiceName,
  cert: Pem,
  key: Pem,
  /** SHA-256 fingerprint of the leaf certificate, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint256: z.string(),
  /** The leaf's notAfter, ISO 8601. */
  not_after: z.string(),
  updated_at: z.string(),
});
export type TlsRecord = z.infer<typeof TlsRecord>;
