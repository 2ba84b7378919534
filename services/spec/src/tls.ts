// @pure: no I/O (tools/lint-boundaries checks it)
import {
  type ResolvedSpec,
  TLS_SCHEMA_VERSION,
  type TlsMaterial,
  type TlsRecord,
  YardError,
} from "@switchyard/contracts";
import { checkTlsMaterial, tlsMaterialError } from "@switchyard/service-spec";

/**
 * The yard-tls record an apply stores, or null when the spec has no `service.tls`. The spec
 * names files on the client's machine; the request carries their contents (`yard up` reads
 * them). Throws a coded error naming the field when the two disagree or the pair is unusable;
 * no message quotes the files.
 */
export function tlsRecordFor(
  spec: ResolvedSpec,
  material: TlsMaterial | undefined,
  now: Date,
): TlsRecord | null {
  if (!spec.service.tls) {
    if (!material) return null;
    throw new YardError(
      "SY_ERR_BAD_REQUEST",
      "the request carries TLS files but the spec has no service.tls",
      [{ path: "tls", message: "given without service.tls in the spec" }],
    );
  }
  if (!material)
    throw new YardError("SY_ERR_SPEC_INVALID", "service.tls names files whose contents the request lacks", [
      {
        path: "service.tls",
        message: "the request must carry the certfile and keyfile contents (`yard up` reads and sends them)",
      },
    ]);
  const c = checkTlsMaterial(material);
  if (!c.ok) throw tlsMaterialError(c.issues);
  return {
    schema: TLS_SCHEMA_VERSION,
    name: spec.name,
    cert: material.cert,
    key: material.key,
    fingerprint256: c.facts.fingerprint256,
    not_after: c.facts.notAfter,
    updated_at: now.toISOString(),
  };
}
