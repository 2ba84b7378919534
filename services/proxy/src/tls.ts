import type { ServerOptions } from "node:https";
import { createSecureContext, type SecureContext, type SecureContextOptions } from "node:tls";
import type { Logger } from "@switchyard/bus";
import { formatError, type TlsRecord } from "@switchyard/contracts";
import { type CertPair, readCertPair, watchCertFiles } from "./cert-files.js";
import { type ProxyConfig, proxyCertFiles } from "./config.js";
import { serviceFromHost } from "./host.js";

/** What the proxy's bus adapter feeds from yard-tls. */
export interface ServiceCerts {
  put(rec: TlsRecord): void;
  delete(name: string): void;
}

/** The data plane's TLS: HTTPS server options, the proxy-wide pair (reloaded) and SNI. */
export interface ProxyTls {
  /** For https.createServer: picks a service's own certificate by SNI. */
  serverOptions: ServerOptions;
  services: ServiceCerts;
  /** Install the proxy-wide pair (if configured) on `server` and follow its files. */
  start(server: { setSecureContext(o: SecureContextOptions): void }): void;
  stop(): void;
}

/** HTTPS is on with a proxy-wide certificate, or with YARD_PROXY_TLS=true (service certificates only). */
export function tlsEnabled(cfg: Pick<ProxyConfig, "YARD_PROXY_TLS" | "YARD_PROXY_TLS_CERT">): boolean {
  return cfg.YARD_PROXY_TLS || cfg.YARD_PROXY_TLS_CERT !== undefined;
}

/**
 * A client's SNI `<service>.<YARD_DOMAIN>` gets that service's `service.tls` certificate;
 * any other name (or none) gets the proxy-wide one, and with none configured the handshake
 * fails. Routing still goes by Host: SNI only picks the certificate. Key text is never logged.
 */
export function createProxyTls(cfg: ProxyConfig, logger: Logger): ProxyTls {
  const domain = cfg.YARD_DOMAIN.toLowerCase();
  const byService = new Map<string, SecureContext>();
  const files = proxyCertFiles(cfg);
  let current: CertPair | null = null;
  let stopWatch: (() => void) | null = null;

  const services: ServiceCerts = {
    put(rec) {
      try {
        byService.set(rec.name, createSecureContext({ cert: rec.cert, key: rec.key }));
        logger.info(
          { service: rec.name, fingerprint256: rec.fingerprint256, not_after: rec.not_after },
          "service certificate loaded",
        );
      } catch (err) {
        // The spec service checked the pair; keep what was served before rather than nothing.
        logger.warn({ service: rec.name, err: (err as Error).message }, "service certificate refused");
      }
    },
    delete(name) {
      if (byService.delete(name)) logger.info({ service: name }, "service certificate removed");
    },
  };

  return {
    serverOptions: {
      SNICallback(servername, cb) {
        const name = serviceFromHost(servername, domain);
        // undefined: the server's default context (the proxy-wide certificate, if any).
        cb(null, (name !== null && byService.get(name)) || undefined);
      },
    },
    services,
    start(server) {
      if (!files) {
        logger.warn(
          {},
          "HTTPS without YARD_PROXY_TLS_CERT: only hosts of services with service.tls complete a handshake",
        );
        return;
      }
      // loadConfig checked the files; a change since then fails start like a bad config.
      current = readCertPair(files);
      server.setSecureContext({ cert: current.cert, key: current.key });
      logger.info(
        { fingerprint256: current.fingerprint256, not_after: current.notAfter },
        "proxy certificate loaded",
      );
      stopWatch = watchCertFiles(
        files,
        () => {
          try {
            const next = readCertPair(files);
            if (current && next.cert === current.cert && next.key === current.key) return;
            server.setSecureContext({ cert: next.cert, key: next.key });
            current = next;
            logger.info(
              { fingerprint256: next.fingerprint256, not_after: next.notAfter },
              "proxy certificate reloaded",
            );
          } catch (err) {
            // Mid-rotation (the certificate written, the key not yet) lands here too; the next
            // change event retries. Connections keep getting the previous pair meanwhile.
            logger.warn(
              { err: formatError(err as Error) },
              "proxy certificate not reloaded; serving the previous one",
            );
          }
        },
        (err) => logger.warn({ err: String(err) }, "cannot watch the proxy certificate files"),
      );
    },
    stop() {
      stopWatch?.();
      stopWatch = null;
    },
  };
}
