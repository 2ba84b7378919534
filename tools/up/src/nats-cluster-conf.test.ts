import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NATS_CLUSTER_CONF_PATH } from "./gen-nats-conf.js";
import { ROUTE_PASS_VAR, renderClusterConf } from "./nats-cluster-conf.js";
import { renderServerConf } from "./nats-server-conf.js";

describe("deploy/nats/cluster.conf", () => {
  it("is the generator's output (pnpm -F @switchyard/up gen:nats-conf)", () => {
    expect(readFileSync(NATS_CLUSTER_CONF_PATH, "utf8")).toBe(renderClusterConf());
  });

  it("is server.conf's users and encrypted JetStream plus a cluster whose routes authenticate", () => {
    const conf = renderClusterConf();
    const serverBody = renderServerConf().split("\nport: 4222")[1];
    expect(conf).toContain(serverBody.trimEnd());
    expect(conf).toMatch(/cipher: chachapoly/);
    expect(conf).toContain(
      `cluster {\n  name: yard\n  authorization {\n    user: route\n    password: $${ROUTE_PASS_VAR}\n  }\n}`,
    );
  });
});
