import { isAbsolute, resolve } from "node:path";
import type { ResolvedService, TlsMaterial } from "@switchyard/contracts";

/**
 * Where a `service.tls` path points, as SkyServe reads it (`os.path.expanduser`, then relative
 * to the working directory of `sky serve up`): `~` and `~/...` are under HOME, a relative path
 * is under `cwd`.
 */
export function tlsPath(path: string, cwd: string, home: string | undefined): string {
  if (home && (path === "~" || path.startsWith("~/"))) return resolve(home, path.slice(2));
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/**
 * The contents of `service.tls`'s certfile and keyfile, for the apply request (the spec
 * service and the proxies never see the client's files). `read` names the field on failure.
 */
export async function readTlsFiles(
  tls: NonNullable<ResolvedService["tls"]>,
  where: { cwd: string; home: string | undefined },
  read: (path: string, what: string) => Promise<string>,
): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([
    read(tlsPath(tls.certfile, where.cwd, where.home), "service.tls.certfile"),
    read(tlsPath(tls.keyfile, where.cwd, where.home), "service.tls.keyfile"),
  ]);
  return { cert, key };
}
