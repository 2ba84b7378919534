import type { ReadinessProbe } from "@switchyard/contracts";
import { Agent, request } from "undici";
import { probeUrl } from "./probe-targets.js";
import type { ProbeOutcome } from "./probe-verdict.js";

export interface HttpProber {
  /** One readiness probe; never throws (errors become `{error}`); null = cut by destroy(). */
  probe(baseUrl: string, p: ReadinessProbe): Promise<ProbeOutcome | null>;
  close(): Promise<void>;
  /** Abort the probes in flight (they end as errors). */
  destroy(): Promise<void>;
}

/**
 * Probes over a dedicated undici Agent with keep-alive off: a fresh connection per probe, like
 * SkyServe's `requests.get`, so a pooled socket the replica closed can never fail a probe of a
 * healthy replica. Headers are sent exactly as given and never appear in an outcome.
 */
export function createHttpProber(): HttpProber {
  const agent = new Agent({ pipelining: 0 });
  let destroyed = false;
  return {
    async probe(baseUrl, p) {
      const ms = p.timeout_seconds * 1000;
      const post = p.post_data != null;
      const headers: Record<string, string> = post ? { "content-type": "application/json" } : {};
      // The spec's headers win over ours, as written (a spec may set its own content-type).
      for (const [k, v] of Object.entries(p.headers)) headers[k] = v;
      try {
        const res = await request(probeUrl(baseUrl, p.path), {
          method: post ? "POST" : "GET",
          headers,
          body: post ? JSON.stringify(p.post_data) : undefined,
          headersTimeout: ms,
          bodyTimeout: ms,
          signal: AbortSignal.timeout(ms),
          dispatcher: agent,
        });
        await res.body.dump({ limit: 64 * 1024 });
        return { status: res.statusCode };
      } catch (err) {
        // Cut by our own shutdown: says nothing about the replica.
        if (destroyed) return null;
        return { error: describeError(err, p.timeout_seconds) };
      }
    },
    async close() {
      if (!destroyed) await agent.close();
    },
    async destroy() {
      destroyed = true;
      await agent.destroy();
    },
  };
}

/** A short, header-free description; never the error's own message (it could echo input). */
export function describeError(err: unknown, timeoutSeconds: number): string {
  const e = err as { code?: unknown; name?: string };
  // DOMExceptions (our AbortSignal.timeout) carry a numeric legacy `code`; their name says it.
  const id = typeof e?.code === "string" ? e.code : (e?.name ?? "unknown error");
  switch (id) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ECONNRESET":
    case "EPIPE":
    case "UND_ERR_SOCKET":
      return "connection closed before a response";
    case "UND_ERR_CONNECT_TIMEOUT":
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
    case "TimeoutError":
    case "AbortError":
      return `no response within ${timeoutSeconds} s`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    default:
      return `request failed (${id})`;
  }
}
