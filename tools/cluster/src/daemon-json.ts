// @pure: /etc/docker/daemon.json with the runc wrapper as a named runtime made the default

export type DaemonJson = { ok: true; text: string; changed: boolean } | { ok: false; error: string };

/**
 * `current` (the file's text, or null when there is none) with `runtimes[name] = {path}` and
 * `default-runtime = name`; every other key kept as it was. Refuses a file that is not a JSON
 * object, or whose default runtime is something else that someone chose (neither runc nor ours):
 * that is theirs to change.
 */
export function withRuntime(current: string | null, name: string, path: string): DaemonJson {
  let conf: Record<string, unknown> = {};
  if (current !== null && current.trim() !== "") {
    try {
      conf = JSON.parse(current);
    } catch (err) {
      return { ok: false, error: `/etc/docker/daemon.json is not valid JSON: ${(err as Error).message}` };
    }
    if (typeof conf !== "object" || conf === null || Array.isArray(conf))
      return { ok: false, error: "/etc/docker/daemon.json is not a JSON object" };
  }
  const def = conf["default-runtime"];
  if (def !== undefined && def !== "runc" && def !== name)
    return {
      ok: false,
      error: `Docker's default runtime is "${String(def)}" (/etc/docker/daemon.json); the cluster needs "${name}" (docs/cluster.md)`,
    };
  const runtimes = conf.runtimes;
  if (
    runtimes !== undefined &&
    (typeof runtimes !== "object" || runtimes === null || Array.isArray(runtimes))
  )
    return { ok: false, error: '/etc/docker/daemon.json: "runtimes" is not an object' };
  const rt = (runtimes ?? {}) as Record<string, unknown>;
  const same = def === name && JSON.stringify(rt[name]) === JSON.stringify({ path });
  if (same) return { ok: true, text: current as string, changed: false };
  const next = { ...conf, runtimes: { ...rt, [name]: { path } }, "default-runtime": name };
  return { ok: true, text: `${JSON.stringify(next, null, 2)}\n`, changed: true };
}
