// @pure: what a Node object says about readiness

export interface NodeLike {
  metadata?: { name?: string };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export function nodeReady(n: NodeLike): { ready: boolean; why: string } {
  const c = n.status?.conditions?.find((x) => x.type === "Ready");
  if (!c) return { ready: false, why: "registered, no Ready condition yet" };
  return {
    ready: c.status === "True",
    why: c.reason ? `${c.reason}${c.message ? `: ${c.message}` : ""}` : c.status,
  };
}
