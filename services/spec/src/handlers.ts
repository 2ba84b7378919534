import type { Logger } from "@switchyard/bus";
import {
  type ApplyRequest,
  type ApplyResult,
  type DeleteResult,
  type ListResult,
  type ResolvedSpec,
  type SpecRecord,
  type TlsRecord,
  type UpdateMode,
  YardError,
} from "@switchyard/contracts";
import { resolveSpec } from "@switchyard/service-spec";
import type { z } from "zod";
import { type ApplyDecision, applyResult, maskRecord } from "./records.js";
import { tlsRecordFor } from "./tls.js";

type Parsed<T extends z.ZodType> = z.output<T>;

/** Where the handlers keep specs: yard-specs and yard-services (bus.ts). */
export interface SpecStore {
  /**
   * Store `spec` as the next revision unless it equals the stored one; publishes the event.
   * `update` (`yard update`): the service must exist (else SY_ERR_NOT_FOUND); the mode is stored.
   */
  apply(spec: ResolvedSpec, update?: UpdateMode): Promise<ApplyDecision>;
  /** What apply would do, storing nothing. */
  preview(spec: ResolvedSpec, update?: UpdateMode): Promise<ApplyDecision>;
  get(name: string): Promise<SpecRecord | null>;
  list(): Promise<SpecRecord[]>;
  /** Remove the spec and its route; null when there was none. */
  remove(name: string): Promise<SpecRecord | null>;
  /** Store a service's certificate (yard-tls); false when the same pair is stored already. */
  putTls(rec: TlsRecord): Promise<boolean>;
  /** Remove a service's certificate; false when it had none. */
  removeTls(name: string): Promise<boolean>;
}

/** The four operations of the spec API, shared by NATS and HTTP. Every answer is masked. */
export interface SpecHandlers {
  apply(req: Parsed<typeof ApplyRequest>): Promise<ApplyResult>;
  get(name: string): Promise<SpecRecord>;
  list(): Promise<z.infer<typeof ListResult>>;
  remove(name: string): Promise<z.infer<typeof DeleteResult>>;
}

export interface HandlerOptions {
  /** YARD_MAX_REPLICAS_PER_SERVICE (default: the resolver's). */
  maxReplicasPerService?: number;
  /** The NATS server's max_payload now (it may change with a reconnect); default 1 MiB. */
  maxPayload?: () => number | undefined;
}

export function createHandlers(store: SpecStore, logger: Logger, opts: HandlerOptions = {}): SpecHandlers {
  return {
    async apply(req) {
      const r = resolveSpec({
        yaml: req.yaml,
        name: req.name,
        fileName: req.file_name,
        envFile: req.env_file,
        env: req.env,
        secrets: req.secrets,
        limits: { maxReplicasPerService: opts.maxReplicasPerService },
      });
      if (!r.ok) {
        // Name and issue count only: the request and the issues' text stay out of the log.
        logger.info(
          { service: req.name ?? null, code: r.error.code, issues: r.error.issues.length },
          "spec rejected",
        );
        throw r.error;
      }
      const name = r.spec.name;
      const tls = tlsRecordFor(r.spec, req.tls, new Date());
      // Before any write: a record over max_payload would fail half-way as SY_ERR_INTERNAL.
      checkPayload(r.spec, r.warnings, tls, opts.maxPayload?.() ?? DEFAULT_MAX_PAYLOAD);
      if (r.warnings.length > 0) logger.warn({ service: name, warnings: r.warnings }, "spec warnings");
      // The certificate goes first: when a proxy sees the route, it can already serve it.
      if (tls && !req.dry_run && (await store.putTls(tls)))
        logger.info(
          { service: name, fingerprint256: tls.fingerprint256, not_after: tls.not_after },
          "tls stored",
        );
      const mode = req.update_mode;
      const d = req.dry_run
        ? await store.preview(r.spec, mode)
        : await tooLargeAsCoded(store.apply(r.spec, mode));
      if (!tls && !req.dry_run && (await store.removeTls(name)))
        logger.info({ service: name }, "tls removed");
      logger.info(
        {
          service: name,
          revision: d.record.revision,
          changed: d.changed,
          dry_run: req.dry_run,
          ...(mode ? { update_mode: mode } : {}),
        },
        req.dry_run ? "spec checked (dry run)" : d.changed ? "spec published" : "spec unchanged",
      );
      return applyResult(d, r.warnings);
    },
    async get(name) {
      const rec = await store.get(name);
      if (!rec) throw notFound(name);
      return maskRecord(rec);
    },
    async list() {
      return { records: (await store.list()).map(maskRecord) };
    },
    async remove(name) {
      const rec = await store.remove(name);
      if (!rec) throw notFound(name);
      await store.removeTls(name);
      logger.info({ service: name, revision: rec.revision }, "spec deleted");
      return { name, deleted: true };
    },
  };
}

/** NATS's default max_payload, for a connection that has not said its own. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** The record's envelope (name, revision, digest, times) and the answer's, beside the spec. */
const ENVELOPE_BYTES = 4096;

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

/**
 * The stored record, the answer (which carries it back) and the certificate record must each
 * fit one NATS message. Names the sizes, not the content.
 */
export function checkPayload(
  spec: ResolvedSpec,
  warnings: readonly string[],
  tls: TlsRecord | null,
  maxPayload: number,
): void {
  const sizes: [what: string, path: string, n: number][] = [
    ["the resolved spec and its answer", "", bytes(spec) + bytes(warnings) + ENVELOPE_BYTES],
    ["the certificate and key of service.tls", "service.tls", tls ? bytes(tls) : 0],
  ];
  for (const [what, path, n] of sizes) {
    if (n <= maxPayload) continue;
    throw new YardError(
      "SY_ERR_TOO_LARGE",
      `${what} would take about ${n} bytes; the NATS server takes at most ${maxPayload} bytes in one message (its max_payload)`,
      [{ path, message: `about ${n} bytes, more than ${maxPayload}` }],
    );
  }
}

/** A KV write the server refused for its size, as the coded error (a race with a smaller server). */
async function tooLargeAsCoded<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (/max_payload/i.test(String(err)))
      throw new YardError("SY_ERR_TOO_LARGE", "the record is larger than the NATS server's max_payload");
    throw err;
  }
}

export function notFound(name: string): YardError {
  return new YardError("SY_ERR_NOT_FOUND", `no service named '${name}'`);
}
