import { call, connectBus, type NatsConnection, silentLogger } from "@switchyard/bus";
import { Subjects, YardError } from "@switchyard/contracts";

export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** Who answers each API subject, and how to start it: for "no responder" messages. */
const RESPONDERS: Record<string, { who: string; start: string }> = {
  [Subjects.specApply]: { who: "the spec service", start: "pnpm -F @switchyard/spec start" },
  [Subjects.specGet]: { who: "the spec service", start: "pnpm -F @switchyard/spec start" },
  [Subjects.specList]: { who: "the spec service", start: "pnpm -F @switchyard/spec start" },
  [Subjects.specDelete]: { who: "the spec service", start: "pnpm -F @switchyard/spec start" },
  [Subjects.replicaLogs]: { who: "the provisioner", start: "pnpm -F @switchyard/provisioner start" },
};

export interface CliBus {
  nc: NatsConnection;
  /** Request/reply with the CLI's messages for "service not running" and timeouts. */
  request<T>(subject: string, req: unknown, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export async function openCliBus(o: { url: string; user?: string; pass?: string }): Promise<CliBus> {
  // Fails at once (no waitOnFirstConnect) with SY_ERR_BUS_UNREACHABLE naming the URL, not the password.
  const nc = await connectBus({
    ...o,
    name: "yard-cli",
    logger: silentLogger,
    timeoutMs: 3_000,
    hint: "Start it with `pnpm start` or set NATS_URL (or --nats URL).",
  });
  return {
    nc,
    async request<T>(subject: string, req: unknown, timeoutMs = 15_000) {
      try {
        return await call<T>(nc, subject, req, timeoutMs);
      } catch (err) {
        if (!(err instanceof YardError)) throw err;
        const r = RESPONDERS[subject];
        if (err.code === "SY_ERR_NO_RESPONDER" && r)
          throw new YardError(
            err.code,
            `${r.who} is not running (no responder on ${subject}); start it with \`${r.start}\``,
          );
        if (err.code === "SY_ERR_TIMEOUT" && r)
          throw new YardError(err.code, `${r.who} did not answer on ${subject} within ${timeoutMs / 1000} s`);
        throw err;
      }
    },
    async close() {
      await nc.close();
    },
  };
}
