import { YardError } from "@switchyard/contracts";
import { bool, CommonEnv, millis, parseEnv, port } from "@switchyard/runtime";
import { z } from "zod";
import { type CertFiles, readCertPair } from "./cert-files.js";

/** Every env var of the proxy, with its default. */
export const ProxyEnv = z.object({
  ...CommonEnv,
  YARD_PROXY_HOST: z.string().default("0.0.0.0"),
  YARD_PROXY_PORT: port(8080),
  YARD_PROXY_ADMIN_HOST: z.string().default("127.0.0.1"),
  YARD_PROXY_ADMIN_PORT: port(9090),
  /** `<service>.<YARD_DOMAIN>` in the Host header picks the service. */
  YARD_DOMAIN: z.string().default("localhost"),
  /** Service for requests whose Host names none (else: the only service, if exactly one). */
  YARD_DEFAULT_SERVICE: z.string().optional(),
  /** Add X-Forwarded-For/-Proto/-Host (default: add nothing). */
  YARD_PROXY_FORWARDED_HEADERS: bool(false),
  /** Extra attempts on other replicas after a connect error / reset before headers. */
  YARD_PROXY_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  /** Request bodies up to this size are buffered so they can be replayed on a retry. */
  YARD_PROXY_REPLAY_MAX_BYTES: z.coerce.number().int().min(0).default(1_048_576),
  YARD_PROXY_CONNECT_TIMEOUT_MS: millis(5_000),
  /** 0 = wait for response headers as long as it takes (LLM first tokens can be slow). */
  YARD_PROXY_HEADERS_TIMEOUT_MS: millis(0),
  /** Longest silence between two body chunks, both directions (0 = none). */
  YARD_PROXY_IDLE_TIMEOUT_MS: millis(300_000),
  /** How long a replica that refused or reset a connection stays out of this proxy's rotation. */
  YARD_PROXY_EJECT_MS: millis(5_000),
  /** Failures in a row (after the request reached it) that eject a replica; a refused connect ejects at once. */
  YARD_PROXY_EJECT_AFTER: z.coerce.number().int().min(1).max(100).default(3),
  /** At most this share of a service's replicas ejected at once (one always may be). */
  YARD_PROXY_EJECT_MAX_SHARE: z.coerce.number().min(0).max(1).default(0.5),
  /** Retry POST/PATCH on another replica even after their bytes reached one (RFC 9110 §9.2.2). */
  YARD_PROXY_RETRY_NON_IDEMPOTENT: bool(false),
  /** Longest wait for the next byte of a request body (0 = none): 408, like nginx's client_body_timeout. */
  YARD_PROXY_BODY_TIMEOUT_MS: millis(60_000),
  /** How often this proxy publishes its load report per service (LoadReport, batched in a LoadBatch on yard.load). */
  YARD_PROXY_REPORT_MS: z.coerce.number().int().min(50).max(600_000).default(1_000),
  /**
   * How often a quiet service (nothing in flight or held, no request) is still reported; never
   * less than YARD_PROXY_REPORT_MS. Busy services are reported every YARD_PROXY_REPORT_MS.
   */
  YARD_PROXY_REPORT_HEARTBEAT_MS: z.coerce.number().int().min(50).max(600_000).default(10_000),
  /**
   * Requests held per service while a service that may idle at zero (`min_replicas: 0`) has no
   * ready replica (scale-from-zero); one more is 503. 0 = never hold (503 at once, as SkyServe).
   */
  YARD_PROXY_HOLD_MAX: z.coerce.number().int().min(0).max(100_000).default(100),
  /** How long a held request waits for the first replica before its 503 (a GPU cold start takes minutes). */
  YARD_PROXY_HOLD_TIMEOUT_MS: z.coerce.number().int().min(1).max(3_600_000).default(300_000),
  /** `all`: a line per request; `errors`: only status >= 500, aborts and failures; `off`. */
  YARD_PROXY_ACCESS_LOG: z.enum(["all", "errors", "off"]).default("errors"),
  /** Processes serving the port (node:cluster). 1 = no cluster. */
  YARD_PROXY_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  /** How long SIGTERM waits for in-flight requests (streams included) before exiting 1. */
  YARD_PROXY_DRAIN_MS: millis(60_000),
  /** PEM certificate (chain, leaf first) of the data plane: HTTPS on, reloaded when the file changes. */
  YARD_PROXY_TLS_CERT: z.string().optional(),
  /** PEM private key of YARD_PROXY_TLS_CERT (unencrypted; keep it 0600). */
  YARD_PROXY_TLS_KEY: z.string().optional(),
  /** HTTPS with no proxy-wide certificate: only services with `service.tls` (by SNI) are served. */
  YARD_PROXY_TLS: bool(false),
});
export type ProxyConfig = z.infer<typeof ProxyEnv>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  const cfg = parseEnv(ProxyEnv, env);
  const [cert, key] = [cfg.YARD_PROXY_TLS_CERT, cfg.YARD_PROXY_TLS_KEY];
  if ((cert === undefined) !== (key === undefined)) {
    const missing = cert === undefined ? "YARD_PROXY_TLS_CERT" : "YARD_PROXY_TLS_KEY";
    throw new YardError("SY_ERR_CONFIG", `invalid configuration: ${missing}`, [
      { path: missing, message: "YARD_PROXY_TLS_CERT and YARD_PROXY_TLS_KEY go together" },
    ]);
  }
  // A bad file fails here, before the bus or any port: the message names the variable and the path.
  const files = proxyCertFiles(cfg);
  if (files) readCertPair(files);
  return cfg;
}

/** The proxy-wide certificate's files, or null when none is configured. */
export function proxyCertFiles(cfg: ProxyConfig): CertFiles | null {
  if (!cfg.YARD_PROXY_TLS_CERT || !cfg.YARD_PROXY_TLS_KEY) return null;
  return {
    cert: { path: cfg.YARD_PROXY_TLS_CERT, env: "YARD_PROXY_TLS_CERT" },
    key: { path: cfg.YARD_PROXY_TLS_KEY, env: "YARD_PROXY_TLS_KEY" },
  };
}
