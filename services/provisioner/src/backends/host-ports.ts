import { createServer } from "node:net";
import type { PortRequest } from "./backend.js";
import { decidePort, type PortDecision } from "./ports.js";

/**
 * The port of a replica that binds on this host (local process groups, containers on the host's
 * network): the spec's port when neither another replica of ours nor anything else holds it,
 * else a free port none of ours holds (decidePort says when a hard-coded port cannot move).
 */
export async function chooseHostPort(req: PortRequest): Promise<PortDecision> {
  const heldBy = req.taken.get(req.specPort) ?? null;
  const specPortFree = heldBy === null && (await portFree(req.specPort));
  let freePort = 0;
  for (let i = 0; !specPortFree && i < 10 && (freePort === 0 || req.taken.has(freePort)); i++)
    freePort = await anyFreePort();
  return decidePort({ specPort: req.specPort, specPortFree, freePort, run: req.run, heldBy });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen({ port, host: "0.0.0.0", exclusive: true }, () => s.close(() => resolve(true)));
  });
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen({ port: 0, host: "0.0.0.0" }, () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}
