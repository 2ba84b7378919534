/**
 * What the launcher prints once everything runs. Pure: addresses and names in, text out.
 * The example's token appears here and nowhere else (it is never logged); the spec API's token
 * never appears at all: the banner names its file.
 */
export interface BannerInput {
  service: string | null;
  token: string | null;
  /** Data-plane port of each proxy, in order. */
  proxyPorts: number[];
  specHttp: string | null;
  /** The spec HTTP API's token file (mode 0600). */
  specTokenFile: string;
  natsUrl: string;
  /** The cli user's password when it is the dev default (else the env var to use). */
  cliPass: string;
  stateDir: string;
}

/** Port of a listening address such as `http://0.0.0.0:8080` or `http://[::]:8080`. */
export function portOf(address: string): number {
  const m = /:(\d+)\/?$/.exec(address);
  return m ? Number(m[1]) : Number.NaN;
}

export function curlLine(service: string, token: string, port: number): string {
  return `curl -H "Authorization: Bearer ${token}" http://${service}.localhost:${port}/v1/models`;
}

/** `s` as one shell word (a state dir may hold spaces). */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The spec API's curl example: the token read from its file by the shell, never written out. */
export function specCurlLine(specHttp: string, tokenFile: string): string {
  const base = specHttp.replace("0.0.0.0", "127.0.0.1").replace(/\/$/, "");
  return `curl -H "Authorization: Bearer $(cat ${shellWord(tokenFile)})" ${base}/v1/services`;
}

export function banner(b: BannerInput): string {
  const out = ["", "Switchyard is running.", ""];
  for (const [i, p] of b.proxyPorts.entries()) out.push(`  proxy ${i + 1}:      http://localhost:${p}`);
  if (b.specHttp) out.push(`  spec API:     ${b.specHttp} (bearer token in ${b.specTokenFile})`);
  out.push(`  NATS:         ${b.natsUrl}`, `  state:        ${b.stateDir}`, "");
  if (b.service && b.token) {
    const port = b.proxyPorts[0];
    out.push(
      `Example "${b.service}" is READY. Its token is shown this once; try it:`,
      "",
      `  ${curlLine(b.service, b.token, port)}`,
      "",
      `  (if *.localhost does not resolve here, add: --resolve ${b.service}.localhost:${port}:127.0.0.1)`,
      "",
    );
  }
  if (b.specHttp)
    out.push(
      "The spec HTTP API (its token is in the file, mode 0600):",
      `  ${specCurlLine(b.specHttp, b.specTokenFile)}`,
      "",
    );
  out.push(
    "The yard CLI against this system:",
    `  NATS_URL=${b.natsUrl} NATS_USER=cli NATS_PASS=${b.cliPass} pnpm yard status`,
    "",
    "Ctrl-C stops everything.",
  );
  return out.join("\n");
}
