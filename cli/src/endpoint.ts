import { parseBool } from "@switchyard/runtime";

/**
 * The URL a client uses to reach a service through the Switchyard proxy.
 * - YARD_PROXY_URL: a template, `{service}` replaced by the name, e.g.
 *   `https://{service}.models.example.com` (wins when set).
 * - else `<scheme>://<service>.<YARD_DOMAIN>:<YARD_PROXY_PORT>` with the proxy's own defaults
 *   (YARD_DOMAIN=localhost, YARD_PROXY_PORT=8080): `http://llm.localhost:8080`. The scheme is
 *   `https` when the service has `service.tls` (the proxy serves its certificate by SNI) or the
 *   proxy's own TLS variables are set in this environment (YARD_PROXY_TLS_CERT, YARD_PROXY_TLS).
 */
export function endpointOf(service: string, env: Record<string, string | undefined>, tls = false): string {
  const tpl = env.YARD_PROXY_URL;
  if (tpl) return tpl.includes("{service}") ? tpl.split("{service}").join(service) : tpl;
  const domain = env.YARD_DOMAIN || "localhost";
  const port = env.YARD_PROXY_PORT || "8080";
  const https = tls || proxyServesHttps(env);
  const defaultPort = https ? "443" : "80";
  return `${https ? "https" : "http"}://${service}.${domain}${port === defaultPort ? "" : `:${port}`}`;
}

/** Whether the proxy configured by this environment serves HTTPS (its own rule, config.ts). */
function proxyServesHttps(env: Record<string, string | undefined>): boolean {
  return Boolean(env.YARD_PROXY_TLS_CERT) || parseBool(env.YARD_PROXY_TLS ?? "") === true;
}
