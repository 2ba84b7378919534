/**
 * Which NATS the launcher uses. Pure: the probe of the candidate URL in, a decision out.
 * - nothing answers → start our own nats-server with deploy/nats/server.conf;
 * - it answers and accepts every Switchyard user → use it;
 * - it answers without auth, or refuses our users → stop with an explanation (the services'
 *   least-privilege users would not apply there, or could not connect).
 */
export type NatsProbe =
  | { kind: "no-answer" }
  | { kind: "no-auth" }
  | { kind: "refused"; user: string }
  | { kind: "ok" };

export type NatsChoice =
  | { action: "use"; url: string; note: string }
  | { action: "spawn"; note: string | null }
  | { action: "fail"; message: string };

export function chooseNats(url: string, explicit: boolean, probe: NatsProbe): NatsChoice {
  const origin = explicit ? `NATS_URL (${url})` : `${url} (YARD_NATS_PORT)`;
  const fix = explicit
    ? "Start it with `nats-server -c deploy/nats/server.conf` (JetStream encrypted with your YARD_NATS_JS_KEY) or deploy/nats/yard.conf, and the same YARD_NATS_<USER>_PASS values; or unset NATS_URL to let `pnpm start` run its own nats-server."
    : "Stop whatever listens there, or set YARD_NATS_PORT to a free port (0: any).";
  switch (probe.kind) {
    case "ok":
      return { action: "use", url, note: `using the NATS at ${origin}` };
    case "no-answer":
      return {
        action: "spawn",
        note: explicit ? `nothing answers at ${origin}: starting our own nats-server` : null,
      };
    case "no-auth":
      return {
        action: "fail",
        message: `a NATS server answers at ${origin} but has no users (it was not started with deploy/nats/server.conf or yard.conf), so Switchyard's least-privilege users cannot apply there. ${fix}`,
      };
    case "refused":
      return {
        action: "fail",
        message: `the NATS server at ${origin} refuses Switchyard's user "${probe.user}" (wrong password, or not started with deploy/nats/server.conf or yard.conf). ${fix}`,
      };
  }
}
