/**
 * Ports a run command binds literally (`--port 8000`, `--port=8000`, `PORT=8000`), as in the
 * seed's vLLM example. Such a run fits once per host; `$YARD_REPLICA_PORT` fits any number.
 */
export function hardcodedPorts(run: string | null): number[] {
  if (!run) return [];
  const out = new Set<number>();
  for (const m of run.matchAll(/(?:--port[=\s]+|\bPORT=)(\d{1,5})\b/g)) out.add(Number(m[1]));
  return [...out];
}

export type PortDecision = { ok: true; port: number } | { ok: false; message: string };

/**
 * The replica's port: the spec's port when it is free on the host, else a free port, unless the
 * run hard-codes the spec's port: then the replica cannot start here, and says why.
 * `heldBy` names the replica of ours holding the spec port, if one does.
 */
export function decidePort(o: {
  specPort: number;
  specPortFree: boolean;
  freePort: number;
  run: string | null;
  heldBy: string | null;
}): PortDecision {
  if (o.specPortFree) return { ok: true, port: o.specPort };
  if (hardcodedPorts(o.run).includes(o.specPort))
    return {
      ok: false,
      message:
        `port ${o.specPort} is in use on this host${o.heldBy ? ` (by replica ${o.heldBy})` : ""} and the run ` +
        `command hard-codes it (--port ${o.specPort}): only one such replica fits per host; ` +
        "use --port $YARD_REPLICA_PORT to run several",
    };
  return { ok: true, port: o.freePort };
}
