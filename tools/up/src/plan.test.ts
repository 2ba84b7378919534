import { PROXY_BUNDLE } from "@switchyard/build";
import { describe, expect, it } from "vitest";
import { BUS_USERS, passwordVar } from "./nats-permissions.js";
import { parseOptions, type UpOptions } from "./options.js";
import {
  bundlesOf,
  clusterNodes,
  natsClusterNode,
  natsServerArgs,
  natsServerEnv,
  nodeArgs,
  pinPorts,
  planServices,
  serviceEnv,
} from "./plan.js";

function opts(env: NodeJS.ProcessEnv): UpOptions {
  const r = parseOptions([], env, { repoRoot: "/repo", cwd: "/repo", isTty: false });
  if (!r.ok) throw new Error(r.error);
  return r.options;
}

describe("planServices", () => {
  it("starts spec, provisioner, prober, autoscaler, then the proxies, each as its own NATS user", () => {
    const plan = planServices(opts({ YARD_PROXIES: "2" }), "nats://127.0.0.1:4333");
    expect(plan.map((p) => [p.name, p.user, nodeArgs(p).join(" ")])).toEqual([
      ["spec", "spec", "--import tsx services/spec/src/main.ts"],
      ["provisioner", "provisioner", "--import tsx services/provisioner/src/main.ts"],
      ["prober", "prober", "--import tsx services/prober/src/main.ts"],
      ["autoscaler", "autoscaler", "--import tsx services/autoscaler/src/main.ts"],
      // The proxies run its bundle (tools/build), built once before anything starts.
      ["proxy-1", "proxy", "services/proxy/dist/main.mjs"],
      ["proxy-2", "proxy", "services/proxy/dist/main.mjs"],
    ]);
    expect(bundlesOf(plan)).toEqual([PROXY_BUNDLE]);
    for (const p of plan) {
      expect(p.env).toMatchObject({
        NATS_URL: "nats://127.0.0.1:4333",
        NATS_USER: p.user,
        NATS_PASS: `${p.user}-dev`,
      });
    }
  });

  it.each([
    {
      name: "fixed ports count up",
      env: { YARD_PROXIES: "3" },
      ports: ["8080", "8081", "8082"],
      admin: ["9090", "9091", "9092"],
    },
    {
      name: "port 0 stays 0 (each picks a free port)",
      env: { YARD_PROXIES: "2", YARD_PROXY_PORT: "0", YARD_PROXY_ADMIN_PORT: "0" },
      ports: ["0", "0"],
      admin: ["0", "0"],
    },
  ])("proxy ports: $name", ({ env, ports, admin }) => {
    const proxies = planServices(opts(env), "u").filter((p) => p.user === "proxy");
    expect(proxies.map((p) => p.env.YARD_PROXY_PORT)).toEqual(ports);
    expect(proxies.map((p) => p.env.YARD_PROXY_ADMIN_PORT)).toEqual(admin);
  });

  it("a restart keeps the ports the last run listened on (planned 0 → the port the banner printed)", () => {
    const [spec, prov, , , proxy] = planServices(
      opts({ YARD_PROXY_PORT: "0", YARD_SPEC_HTTP_PORT: "0" }),
      "u",
    );
    const listening = new Map([
      ["proxy", "http://127.0.0.1:41234"],
      ["admin", "http://[::]:41235/"],
    ]);
    expect(pinPorts(proxy, listening).env).toMatchObject({
      YARD_PROXY_PORT: "41234",
      YARD_PROXY_ADMIN_PORT: "41235",
    });
    expect(pinPorts(spec, new Map([["http", "http://127.0.0.1:7071"]])).env.YARD_SPEC_HTTP_PORT).toBe("7071");
    expect(pinPorts(spec, new Map()).env.YARD_SPEC_HTTP_PORT).toBe("0"); // nothing seen yet
    expect(pinPorts(prov, listening)).toEqual(prov); // no server of its own
    expect(pinPorts(proxy, new Map([["proxy", "garbage"]])).env.YARD_PROXY_PORT).toBe("0");
  });

  it("gives the provisioner the state dir and the spec service its HTTP port and token file", () => {
    const plan = planServices(opts({ YARD_STATE_DIR: "/st", YARD_SPEC_HTTP_PORT: "0" }), "u");
    expect(plan.find((p) => p.name === "provisioner")?.env.YARD_STATE_DIR).toBe("/st");
    const spec = plan.find((p) => p.name === "spec")?.env;
    expect(spec).toMatchObject({ YARD_SPEC_HTTP_PORT: "0", YARD_SPEC_API_TOKEN_FILE: "/st/spec-api.token" });
    expect(spec?.YARD_SPEC_API_TOKEN).toBeUndefined();
    // Only the spec service learns where the token is.
    expect(plan.filter((p) => "YARD_SPEC_API_TOKEN_FILE" in p.env).map((p) => p.name)).toEqual(["spec"]);
  });
});

describe("natsServerArgs / natsServerEnv", () => {
  it.each([
    { name: "fixed port", env: {}, port: "4333" },
    { name: "any port", env: { YARD_NATS_PORT: "0" }, port: "-1" },
  ])("$name", ({ env, port }) => {
    expect(natsServerArgs("/repo", opts(env))).toEqual([
      "-c",
      "/repo/deploy/nats/server.conf",
      "-a",
      "127.0.0.1",
      "-p",
      port,
      "-sd",
      "/repo/.yard/nats",
    ]);
  });

  it("passes every user's password and JetStream's key in the variables the config reads", () => {
    expect(natsServerEnv(opts({ YARD_NATS_CLI_PASS: "c" }), passwordVar, "K3Y")).toEqual({
      ...Object.fromEntries(BUS_USERS.map((u) => [passwordVar(u), `${u}-dev`])),
      YARD_NATS_CLI_PASS: "c",
      YARD_NATS_JS_KEY: "K3Y",
    });
  });
});

describe("serviceEnv", () => {
  it("gives a service its own NATS password only, keeping the rest of the environment", () => {
    const base = { PATH: "/bin", YARD_NATS_SPEC_PASS: "s", YARD_NATS_PROXY_PASS: "p", YARD_GPUS: "L4:1" };
    const o = opts(base);
    const proxy = planServices(o, "u").find((p) => p.user === "proxy")!;
    const env = serviceEnv(base, proxy, passwordVar, BUS_USERS);
    expect(env).toMatchObject({ PATH: "/bin", YARD_GPUS: "L4:1", NATS_USER: "proxy", NATS_PASS: "p" });
    expect(Object.keys(env).filter((k) => k.startsWith("YARD_NATS_"))).toEqual([]);
  });

  it("passes on neither JetStream's key nor a spec API token the launcher's own environment holds", () => {
    const base = { PATH: "/bin", YARD_NATS_JS_KEY: "k", YARD_SPEC_API_TOKEN: "t".repeat(20) };
    for (const plan of planServices(opts(base), "u")) {
      const env = serviceEnv(base, plan, passwordVar, BUS_USERS);
      expect(env.YARD_NATS_JS_KEY).toBeUndefined();
      expect(env.YARD_SPEC_API_TOKEN).toBeUndefined();
    }
  });
});

describe("clusterNodes / natsClusterArgs", () => {
  it("three loopback nodes on consecutive client and route ports, each its own store, routes to all", () => {
    const o = opts({ YARD_NATS_CLUSTER: "3" });
    const nodes = clusterNodes(o);
    expect(nodes.map((n) => [n.name, n.clientPort, n.routePort, n.storeDir])).toEqual([
      ["yard-1", 4333, 6333, "/repo/.yard/nats-cluster/yard-1"],
      ["yard-2", 4334, 6334, "/repo/.yard/nats-cluster/yard-2"],
      ["yard-3", 4335, 6335, "/repo/.yard/nats-cluster/yard-3"],
    ]);
    const n2 = natsClusterNode(o, nodes[1]);
    expect(n2.path).toBe("/repo/.yard/nats-cluster/yard-2.conf");
    expect(n2.args).toEqual([
      "-c",
      "/repo/.yard/nats-cluster/yard-2.conf",
      "-a",
      "127.0.0.1",
      "-p",
      "4334",
      "-sd",
      "/repo/.yard/nats-cluster/yard-2",
    ]);
    expect(n2.text).toContain("server_name: yard-2\n");
    expect(n2.text).toContain('listen: "127.0.0.1:6334"');
    expect(n2.text).toContain(
      'routes: [\n    "nats://route:route-dev@127.0.0.1:6333"\n    "nats://route:route-dev@127.0.0.1:6334"\n    "nats://route:route-dev@127.0.0.1:6335"\n  ]',
    );
  });

  it("the spec service gets YARD_NATS_REPLICAS; the route password reaches nats-server only", () => {
    const o = opts({ YARD_NATS_CLUSTER: "3", YARD_NATS_ROUTE_PASS: "r-secret" });
    const spec = planServices(o, "nats://a,nats://b")[0];
    expect(spec.env.YARD_NATS_REPLICAS).toBe("3");
    expect(natsServerEnv(o, passwordVar, "k").YARD_NATS_ROUTE_PASS).toBe("r-secret");
    for (const p of planServices(o, "nats://a")) {
      const env = serviceEnv({ YARD_NATS_ROUTE_PASS: "r-secret" }, p, passwordVar, BUS_USERS);
      expect(env.YARD_NATS_ROUTE_PASS).toBeUndefined();
    }
  });
});
