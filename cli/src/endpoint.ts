/**
 * The URL a client uses to reach a service through the Switchyard proxy.
 * - YARD_PROXY_URL: a template, `{service}` replaced by the name, e.g.
 *   `https://{service}.models.example.com` (wins when set).
 * - else `http://<service>.<YARD_DOMAIN>:<YARD_PROXY_PORT>` with the proxy's own defaults
 *   (YARD_DOMAIN=localhost, YARD_PROXY_PORT=8080): `http://llm.localhost:8080`.
 */
export function endpointOf(service: string, env: Record<string, string | undefined>): string {
  const tpl = env.YARD_PROXY_URL;
  if (tpl) return tpl.includes("{service}") ? tpl.split("{service}").join(service) : tpl;
  const domain = env.YARD_DOMAIN || "localhost";
  const port = env.YARD_PROXY_PORT || "8080";
  return `http://${service}.${domain}${port === "80" ? "" : `:${port}`}`;
}
