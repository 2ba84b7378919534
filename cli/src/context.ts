import { type CliBus, DEFAULT_NATS_URL, openCliBus } from "./bus-client.js";
import type { Io } from "./io.js";

export interface Ctx {
  io: Io;
  /** Connect on first use (dry runs never connect); closed by the program after the command. */
  bus(): Promise<CliBus>;
  natsUrl: string;
}

export function createCtx(io: Io, natsFlag: string | undefined): Ctx & { close(): Promise<void> } {
  const natsUrl = natsFlag || io.env.NATS_URL || DEFAULT_NATS_URL;
  let pending: Promise<CliBus> | null = null;
  return {
    io,
    natsUrl,
    bus() {
      pending ??= openCliBus({ url: natsUrl, user: io.env.NATS_USER, pass: io.env.NATS_PASS });
      return pending;
    },
    async close() {
      if (!pending) return;
      const b = await pending.catch(() => null);
      await b?.close().catch(() => undefined);
    },
  };
}
