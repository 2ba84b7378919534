import { type Proc, startTs } from "@switchyard/testkit";

export const MAIN = "tools/fake-engine/src/main.ts";

/** A fake engine process on a free loopback port, once it listens. */
export async function startEngine(args: string[]): Promise<{ proc: Proc; base: string }> {
  const proc = startTs(MAIN, ["--host", "127.0.0.1", "--port", "0", ...args]);
  const line = await proc.waitForLine(/fake-openai-engine listening on http:\/\/127\.0\.0\.1:\d+/);
  const port = Number(/:(\d+)$/.exec(line)![1]);
  return { proc, base: `http://127.0.0.1:${port}` };
}

/** One sample's value from the engine's /metrics, e.g. `vllm:num_requests_waiting`. */
export async function metric(base: string, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const re = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\{([^}]*)\\} (\\S+)$`, "m");
  const all = text.split("\n").filter((l) => re.test(l) && l.includes(labels));
  if (all.length !== 1) throw new Error(`${all.length} samples of ${name}{…${labels}…} in:\n${text}`);
  return Number(re.exec(all[0])![2]);
}

/**
 * Resolves once /metrics shows `value` for the sample. /metrics is the only place a
 * non-streamed request's arrival shows (it gets no early headers), so this reads it as a
 * scraper would, every 20 ms, until then or the deadline.
 */
export async function metricReaches(
  base: string,
  name: string,
  value: number,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const now = await metric(base, name);
    if (now === value) return;
    if (performance.now() > deadline)
      throw new Error(`${name} is ${now}, not ${value}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
