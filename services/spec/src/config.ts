import { readFileSync, statSync } from "node:fs";
import { YardError } from "@switchyard/contracts";
import { CommonEnv, parseEnv, port } from "@switchyard/runtime";
import { DEFAULT_SPEC_LIMITS } from "@switchyard/service-spec";
import { z } from "zod";

/**
 * Spec service env vars (parsed once at start):
 * - NATS_URL (nats://127.0.0.1:4222) / NATS_USER / NATS_PASS / LOG_LEVEL (info): as every service.
 * - YARD_SPEC_HTTP_HOST (127.0.0.1): address of the HTTP API.
 * - YARD_SPEC_HTTP_PORT (7070): its port; 0 picks a free one (logged with msg "listening").
 * - YARD_SPEC_API_TOKEN / YARD_SPEC_API_TOKEN_FILE: the HTTP API's bearer token (≥ 16 chars),
 *   or a file holding it (mode 0600); with neither, the HTTP API stays off (NATS API only).
 * - YARD_SPEC_HTTP_ALLOWED_HOSTS: extra Host values accepted (comma-separated `host:port`).
 * - YARD_SPEC_HTTP_ALLOWED_ORIGINS: browser origins accepted (none by default).
 * - YARD_MAX_REPLICAS_PER_SERVICE (64): a spec whose replicas, min_replicas or max_replicas
 *   is larger is refused (SY_ERR_SPEC_INVALID naming the field).
 * - YARD_NATS_REPLICAS (1): copies of each bucket and stream that a NATS cluster keeps (R), set
 *   when the spec service creates them; 3 on a 3-node cluster (docs/deploy.md).
 */
export const SpecEnv = z.object({
  ...CommonEnv,
  YARD_SPEC_HTTP_HOST: z.string().default("127.0.0.1"),
  YARD_SPEC_HTTP_PORT: port(7070),
  YARD_SPEC_API_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  YARD_SPEC_API_TOKEN_FILE: z.string().optional(),
  YARD_SPEC_HTTP_ALLOWED_HOSTS: list(),
  YARD_SPEC_HTTP_ALLOWED_ORIGINS: list(),
  YARD_MAX_REPLICAS_PER_SERVICE: z.coerce
    .number()
    .int("must be a whole number")
    .positive("must be 1 or more")
    .default(DEFAULT_SPEC_LIMITS.maxReplicasPerService),
  // JetStream allows R 1 to 5.
  YARD_NATS_REPLICAS: z.coerce.number().int("must be a whole number").min(1).max(5).default(1),
});
export type SpecConfig = z.infer<typeof SpecEnv>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<SpecConfig> {
  const cfg = parseEnv(SpecEnv, env);
  if (cfg.YARD_SPEC_API_TOKEN_FILE === undefined) return cfg;
  return Object.freeze({ ...cfg, YARD_SPEC_API_TOKEN: readTokenFile(cfg.YARD_SPEC_API_TOKEN_FILE) });
}

/** The token file's first line. Never quoted back: the errors name the variable and the cause. */
function readTokenFile(path: string): string {
  const fail = (why: string) =>
    new YardError("SY_ERR_CONFIG", `invalid configuration: YARD_SPEC_API_TOKEN_FILE ${why}`, [
      { path: "YARD_SPEC_API_TOKEN_FILE", message: why },
    ]);
  let text: string;
  try {
    if ((statSync(path).mode & 0o077) !== 0) throw fail("is readable by other users (chmod 600 it)");
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (err instanceof YardError) throw err;
    throw fail(`cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const token = text.split(/\r?\n/)[0].trim();
  if (token.length < 16) throw fail("must hold a token of at least 16 characters");
  return token;
}

function list() {
  return z
    .string()
    .optional()
    .transform((s) =>
      (s ?? "")
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    );
}
