import { run } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";

/**
 * A service started with a bad env var stops at once (exit 1) with one fatal log line naming the
 * variable, before it touches the bus: nothing listens on the NATS_URL given here.
 */
const cases = [
  { service: "spec", env: { YARD_SPEC_HTTP_PORT: "70000" }, names: "YARD_SPEC_HTTP_PORT" },
  { service: "provisioner", env: { YARD_TERMINATE_GRACE_MS: "soon" }, names: "YARD_TERMINATE_GRACE_MS" },
  { service: "prober", env: { YARD_PROBE_INTERVAL_MS: "-5" }, names: "YARD_PROBE_INTERVAL_MS" },
  { service: "proxy", env: { YARD_PROXY_PORT: "http" }, names: "YARD_PROXY_PORT" },
  { service: "proxy", env: { LOG_LEVEL: "loud" }, names: "LOG_LEVEL" },
];

describe("service configuration", () => {
  it.concurrent.each(cases)(
    "$service with a bad $names exits 1 naming it",
    async ({ service, env, names }) => {
      const r = await run(`services/${service}/src/main.ts`, [], {
        ...env,
        NATS_URL: "nats://127.0.0.1:1",
        NATS_PASS: "pass-planted-7f3a",
      });
      expect(r.code).toBe(1);
      const fatal = r.lines.filter((l) => l.includes('"invalid configuration"'));
      expect(fatal).toHaveLength(1);
      const line = JSON.parse(fatal[0]!) as { level: number; code: string; err: string };
      expect(line.level).toBe(60);
      expect(line.code).toBe("SY_ERR_CONFIG");
      expect(line.err).toContain(names);
      expect(r.stdout + r.stderr).not.toContain("pass-planted-7f3a");
    },
  );
});
