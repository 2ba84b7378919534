import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NATS_CLUSTER_CONF_DIR } from "./gen-nats-conf.js";
import {
  clusterNodeArgs,
  composeClusterConfs,
  ROUTE_PASS_VAR,
  renderClusterNodeConf,
} from "./nats-cluster-conf.js";
import { renderServerConf } from "./nats-server-conf.js";

describe("cluster node configs", () => {
  it("deploy/nats/cluster/ is the generator's output (pnpm -F @switchyard/up gen:nats-conf)", () => {
    for (const c of composeClusterConfs())
      expect(readFileSync(join(NATS_CLUSTER_CONF_DIR, c.file), "utf8"), c.file).toBe(c.text);
  });

  it("server.conf's users and encrypted JetStream, the node's name, and a cluster whose routes authenticate", () => {
    const conf = renderClusterNodeConf("n-1", "0.0.0.0:6222", ["a:6222", "b:6222"], "pw-12345");
    expect(conf).toContain(renderServerConf().split("\nport: 4222")[1].trimEnd());
    expect(conf).toContain("server_name: n-1\n");
    expect(conf).toContain(
      `cluster {\n  name: yard\n  listen: "0.0.0.0:6222"\n  authorization {\n    user: route\n    password: $${ROUTE_PASS_VAR}\n  }\n  routes: [\n    "nats://route:pw-12345@a:6222"\n    "nats://route:pw-12345@b:6222"\n  ]\n}\n`,
    );
  });

  it("puts nothing about the cluster on the command line (--cluster would drop the route user)", () => {
    const node = {
      name: "n-1",
      clientHost: "127.0.0.1",
      clientPort: 1,
      routeHost: "127.0.0.1",
      routePort: 2,
      storeDir: "/s",
    };
    expect(
      clusterNodeArgs("/c.conf", node).filter((a) => a.includes("cluster") || a.includes("route")),
    ).toEqual([]);
  });
});
