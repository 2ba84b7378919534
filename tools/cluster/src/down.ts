import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { podContainers, removeContainers } from "./docker.js";
import { run } from "./exec.js";
import { stateLayout } from "./layout.js";
import { mountsUnder } from "./mounts.js";
import type { ClusterOptions } from "./options.js";
import { readPids, stopProcess } from "./procs.js";

/**
 * `pnpm cluster down`: stop what `up` started (the kubelet first, etcd last), remove the pods'
 * containers, unmount the kubelet's volumes and delete the state dir. The build cache, the pause
 * image and Docker's runtime setting stay (the next `up` needs them; they change nothing else).
 */
export async function down(
  o: ClusterOptions,
  say: (s: string) => void,
  opts: { keepLogs?: boolean } = {},
): Promise<void> {
  const s = stateLayout(o.stateDir);
  const started = readPids(s).reverse();
  for (const p of started) {
    const how = await stopProcess(p, p.name === "etcd" ? 10_000 : 15_000);
    if (how !== "not running") say(`${p.name} ${how} (pid ${p.pid})`);
  }
  const ids = await podContainers();
  if (ids.length) {
    await removeContainers(ids);
    say(`removed ${ids.length} pod container(s)`);
  }
  let mountinfo = "";
  try {
    mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {}
  for (const m of mountsUnder(mountinfo, s.kubeletRoot)) await run("umount", ["-l", m]);
  if (opts.keepLogs && existsSync(s.dir)) {
    for (const f of readdirSync(s.dir))
      if (`${s.dir}/${f}` !== s.logs) rmSync(`${s.dir}/${f}`, { recursive: true, force: true });
  } else rmSync(s.dir, { recursive: true, force: true });
  say("down");
}
