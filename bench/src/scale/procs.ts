import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildBundle, PROXY_BUNDLE } from "@switchyard/build";
import { type Proc, REPO_ROOT, startProc, startTs } from "@switchyard/testkit";
import { childrenOf } from "../proxy/cpu.js";

/** The process's resident set now (VmRSS) and at its peak (VmHWM), in MB. */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rss: Math.round(kb("VmRSS") / 1024), peak: Math.round(kb("VmHWM") / 1024) };
}

/** Resident set now of a process and its live descendants (a proxy's cluster workers), in MB. */
export function treeRssMb(pid: number): number {
  let mb = 0;
  try {
    mb = memoryMb(pid).rss;
  } catch {
    return 0; // gone meanwhile
  }
  for (const c of childrenOf(pid)) mb += treeRssMb(c);
  return mb;
}

/** This process's open-file limit (soft, hard): its children get the same. */
export function fileLimit(): { soft: number; hard: number } {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(
    readFileSync("/proc/self/limits", "utf8"),
  );
  const n = (x: string | undefined) =>
    x === undefined || x === "unlimited" ? Number.POSITIVE_INFINITY : Number(x);
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

/** Available memory (MemAvailable), MB. */
export function availableMb(): number {
  const m = /MemAvailable:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"));
  return Math.round(Number(m?.[1] ?? 0) / 1024);
}

export interface Engine {
  proc: Proc;
  url: string;
}

/** A fake OpenAI engine (the vLLM stand-in) on a free loopback port. */
export async function startEngine(args: string[]): Promise<Engine> {
  const proc = startTs("tools/fake-engine/src/main.ts", ["--host", "127.0.0.1", "--port", "0", ...args]);
  const line = await proc.waitForLine(/listening on (http:\/\/\S+)/, 60_000);
  return { proc, url: /listening on (http:\/\/\S+)/.exec(line)![1] };
}

let proxyBuild: Promise<string> | null = null;
let proxyBuilt = false;

/**
 * Build the proxy's bundle (tools/build) from the source as it is now, once per bench process;
 * resolves with its `built …` line. Call it before timing a start: launchProxy needs it done.
 */
export function buildProxy(): Promise<string> {
  proxyBuild ??= buildBundle(PROXY_BUNDLE, REPO_ROOT).then((b) => {
    proxyBuilt = true;
    return b.line;
  });
  return proxyBuild;
}

/**
 * `node <bundle>`, after buildProxy() in this process: a bench never times a dist/ left from an
 * earlier build of other code. `nodeFlags` go before it (e.g. `--cpu-prof`).
 */
export function proxyArgs(nodeFlags: string[] = []): string[] {
  if (!proxyBuilt) throw new Error("the proxy's bundle is not built yet: await buildProxy() first");
  return [...nodeFlags, join(REPO_ROOT, PROXY_BUNDLE.outfile)];
}

/**
 * The proxy as `pnpm start` and the images run it (`node services/proxy/dist/main.mjs`), on free
 * loopback ports; nothing awaited (buildProxy() must have finished).
 */
export function launchProxy(natsUrl: string, env: NodeJS.ProcessEnv = {}): Proc {
  return startProc(process.execPath, proxyArgs(), {
    env: {
      NATS_URL: natsUrl,
      YARD_PROXY_HOST: "127.0.0.1",
      YARD_PROXY_PORT: "0",
      YARD_PROXY_ADMIN_PORT: "0",
      LOG_LEVEL: "info",
      ...env,
    },
  });
}

/** The address a proxy logged for its data plane or admin server. */
export async function addressOf(proc: Proc, server: "proxy" | "admin", timeoutMs: number): Promise<string> {
  const line = await proc.waitForLine(new RegExp(`"server":"${server}".*"msg":"listening"`), timeoutMs);
  return String(JSON.parse(line).address);
}
