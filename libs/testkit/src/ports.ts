import { createServer, type Server } from "node:net";

/** A port that was free a moment ago on every address (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "0.0.0.0", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * A spec port for a test: outside the kernel's ephemeral range (32768+) and unlikely to be
 * taken, so no other process grabs it between the provisioner's check and the engine's bind.
 * (If it is taken, the provisioner picks another port anyway.)
 */
export function quietPort(): number {
  return 20_000 + Math.floor(Math.random() * 10_000);
}

/**
 * A quietPort that is free now (bound, then released): for a server started later by another
 * process (a host-network Pod). A port from freePort is in the ephemeral range, where a busy
 * machine's own outgoing connections (a kubelet's watches) may take it before the server binds.
 */
export async function freeQuietPort(): Promise<number> {
  for (;;) {
    const port = quietPort();
    const held = await holdPort(port);
    if (held) {
      await new Promise((r) => held.close(r));
      return port;
    }
  }
}

/** Listen on a port on all addresses, so nothing else gets it; null when something has it already. */
export function holdPort(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(null));
    srv.listen({ port }, () => resolve(srv));
  });
}
