import { type Child, spawnChild } from "./child.js";
import { BUS_USERS, passwordVar } from "./nats-permissions.js";
import { nodeArgs, type ServicePlan, serviceEnv } from "./plan.js";

/** A started service: its process, its `ready` line, the addresses it logged as listening. */
export interface RunningService {
  plan: ServicePlan;
  child: Child;
  ready: Promise<void>;
  /** `server` field of the listening line (proxy: "proxy" | "admin"; spec: none) → address. */
  addresses: Map<string, string>;
}

/** What a service's log line tells the launcher (pino JSON; anything else is only shown). */
export function lineEvent(line: string): { ready: true } | { listening: string; server: string } | null {
  if (!line.startsWith("{")) return null;
  try {
    const v = JSON.parse(line) as { msg?: unknown; address?: unknown; server?: unknown };
    if (v.msg === "ready") return { ready: true };
    if (v.msg === "listening" && typeof v.address === "string")
      return { listening: v.address, server: typeof v.server === "string" ? v.server : "http" };
  } catch {
    return null;
  }
  return null;
}

export function startService(
  plan: ServicePlan,
  repoRoot: string,
  show: (line: string) => void,
): RunningService {
  let markReady!: () => void;
  const ready = new Promise<void>((r) => {
    markReady = r;
  });
  const addresses = new Map<string, string>();
  const child = spawnChild(
    process.execPath,
    nodeArgs(plan),
    { env: serviceEnv(process.env, plan, passwordVar, BUS_USERS), cwd: repoRoot },
    (line) => {
      show(line);
      const ev = lineEvent(line);
      if (ev && "ready" in ev) markReady();
      else if (ev) addresses.set(ev.server, ev.listening);
    },
  );
  const svc: RunningService = {
    plan,
    child,
    addresses,
    ready: Promise.race([
      ready,
      child.exited.then((code) => {
        throw new Error(`${plan.name} exited (${code}) before it was ready`);
      }),
    ]),
  };
  svc.ready.catch(() => {});
  return svc;
}
