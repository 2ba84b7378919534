import { readFileSync } from "node:fs";
import { join } from "node:path";
import { resolveSpec } from "@switchyard/service-spec";
import { REPO_ROOT, specRecord } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionerSystem } from "./suite.js";

const TOKEN = "example-token-5d2f";

describe("examples/local-auth.yaml on the local backend", { timeout: 120_000 }, () => {
  const w = provisionerSystem();
  beforeAll(async () => {
    await w.start();
  });
  afterAll(() => w.dispose());

  it("resolves with --env AUTH_TOKEN, runs the fake engine from PATH, which answers only with the token", async () => {
    const file = join(REPO_ROOT, "examples/local-auth.yaml");
    const r = resolveSpec({ yaml: readFileSync(file, "utf8"), fileName: file, env: { AUTH_TOKEN: TOKEN } });
    if (!r.ok) throw r.error;
    expect(r.spec.resources.accelerators).toEqual([]);
    expect(r.spec.service.readiness_probe.headers).toEqual({ Authorization: `Bearer ${TOKEN}` });
    const prov = await w.startService("provisioner"); // default YARD_REPLICA_PATH: the checkout's node_modules/.bin
    await w.putSpec(specRecord({ spec: r.spec }));
    const [rep] = await w.waitReplicas((rs) => rs[0]?.phase === "STARTING", "the replica STARTING");
    const probe = r.spec.service.readiness_probe;
    const get = (headers: Record<string, string>) =>
      fetch(`${rep.url}${probe.path}`, { headers }).then(
        (x) => x.status,
        () => 0,
      );
    // What the prober will do: the probe with its headers gets 200 once the engine listens.
    await expect.poll(() => get(probe.headers), { timeout: 30_000 }).toBe(200);
    expect(await get({})).toBe(401);
    expect(prov.lines.join("\n")).not.toContain(TOKEN);
  });
});
