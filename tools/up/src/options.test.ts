import { describe, expect, it } from "vitest";
import { parseOptions } from "./options.js";

const ctx = { repoRoot: "/repo", cwd: "/here", isTty: false };

describe("parseOptions", () => {
  it.each([
    {
      name: "defaults: own nats on 4333, one proxy on 8080/9090, example on, state in the repo",
      argv: [],
      env: {},
      want: {
        natsUrl: null,
        natsPort: 4333,
        proxies: 1,
        proxyPort: 8080,
        adminPort: 9090,
        specPort: 7070,
        example: true,
        stateDir: "/repo/.yard",
        examplePath: "/repo/examples/local-auth.yaml",
        restart: { initialMs: 500, maxMs: 30_000 },
        pretty: false,
      },
    },
    {
      name: "restart backoff from env",
      argv: [],
      env: { YARD_RESTART_DELAY_MS: "100", YARD_RESTART_MAX_DELAY_MS: "100" },
      want: { restart: { initialMs: 100, maxMs: 100 } },
    },
    {
      name: "env overrides",
      argv: [],
      env: {
        NATS_URL: "nats://h:1",
        YARD_NATS_PORT: "0",
        YARD_PROXIES: "3",
        YARD_PROXY_PORT: "0",
        YARD_STATE_DIR: "/s",
      },
      want: { natsUrl: "nats://h:1", natsPort: 0, proxies: 3, proxyPort: 0, stateDir: "/s" },
    },
    { name: "--no-example", argv: ["--no-example"], env: {}, want: { example: false } },
    { name: "YARD_EXAMPLE=0", argv: [], env: { YARD_EXAMPLE: "0" }, want: { example: false } },
    { name: "YARD_EXAMPLE=no", argv: [], env: { YARD_EXAMPLE: "no" }, want: { example: false } },
    {
      name: "relative state dir is from the cwd",
      argv: [],
      env: { YARD_STATE_DIR: "st" },
      want: { stateDir: "/here/st" },
    },
    { name: "--help", argv: ["--help"], env: {}, want: { help: true } },
    { name: "pnpm's -- separator ignored", argv: ["--", "--no-example"], env: {}, want: { example: false } },
  ])("$name", ({ argv, env, want }) => {
    const r = parseOptions(argv, env, ctx);
    expect(r.ok && r.options).toMatchObject(want);
  });

  it.each([
    { name: "unknown flag", argv: ["--nope"], env: {}, error: /unknown argument "--nope"/ },
    { name: "a flag that is no flag", argv: [], env: { YARD_EXAMPLE: "off" }, error: /YARD_EXAMPLE must be/ },
    {
      name: "proxies not a number",
      argv: [],
      env: { YARD_PROXIES: "many" },
      error: /YARD_PROXIES must be an integer/,
    },
    {
      name: "zero proxies",
      argv: [],
      env: { YARD_PROXIES: "0" },
      error: /YARD_PROXIES must be an integer from 1/,
    },
    { name: "port out of range", argv: [], env: { YARD_NATS_PORT: "70000" }, error: /YARD_NATS_PORT/ },
    {
      name: "no restart delay",
      argv: [],
      env: { YARD_RESTART_DELAY_MS: "0" },
      error: /YARD_RESTART_DELAY_MS must be an integer from 1/,
    },
    {
      name: "a cap below the first delay",
      argv: [],
      env: { YARD_RESTART_DELAY_MS: "5000", YARD_RESTART_MAX_DELAY_MS: "1000" },
      error: /YARD_RESTART_MAX_DELAY_MS \(1000\) must not be below YARD_RESTART_DELAY_MS \(5000\)/,
    },
    {
      name: "proxy ports past 65535",
      argv: [],
      env: { YARD_PROXIES: "3", YARD_PROXY_PORT: "65534" },
      error: /YARD_PROXY_PORT=65534 leaves no room for 3 proxies/,
    },
  ])("rejects $name", ({ argv, env, error }) => {
    const r = parseOptions(argv, env, ctx);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(error);
  });

  it.each([
    { name: "dev defaults", env: {}, proxy: "proxy-dev", spec: "spec-dev" },
    { name: "from env", env: { YARD_NATS_PROXY_PASS: "p1" }, proxy: "p1", spec: "spec-dev" },
  ])("passwords: $name", ({ env, proxy, spec }) => {
    const r = parseOptions([], env, ctx);
    expect(r.ok && r.options.passwords).toMatchObject({ proxy, spec });
  });

  it.each([
    { name: "terminal", isTty: true, env: {}, pretty: true },
    { name: "terminal with NO_COLOR", isTty: true, env: { NO_COLOR: "1" }, pretty: false },
    { name: "pipe", isTty: false, env: {}, pretty: false },
  ])("pretty output: $name", ({ isTty, env, pretty }) => {
    const r = parseOptions([], env, { ...ctx, isTty });
    expect(r.ok && r.options.pretty).toBe(pretty);
  });
});

describe("parseOptions: --nats-cluster", () => {
  it.each([
    {
      name: "flag",
      argv: ["--nats-cluster", "3"],
      env: {},
      want: { natsCluster: 3, replicas: 3, clusterPort: 6333 },
    },
    { name: "flag=", argv: ["--nats-cluster=5"], env: {}, want: { natsCluster: 5, replicas: 3 } },
    {
      name: "env",
      argv: [],
      env: { YARD_NATS_CLUSTER: "3", YARD_NATS_CLUSTER_PORT: "7000" },
      want: { natsCluster: 3, clusterPort: 7000 },
    },
    {
      name: "one server: R=1",
      argv: [],
      env: {},
      want: { natsCluster: 0, replicas: 1, routePass: "route-dev" },
    },
    { name: "R set", argv: ["--nats-cluster", "5"], env: { YARD_NATS_REPLICAS: "5" }, want: { replicas: 5 } },
  ])("$name", ({ argv, env, want }) => {
    const r = parseOptions(argv, env, ctx);
    expect(r.ok && r.options).toMatchObject(want);
  });

  it.each([
    { argv: ["--nats-cluster", "2"], env: {}, error: /must be 3 or 5/ },
    { argv: ["--nats-cluster"], env: {}, error: /must be 3 or 5/ },
    { argv: [], env: { YARD_NATS_CLUSTER: "x" }, error: /must be 3 or 5 .*got "x"/ },
    { argv: [], env: { YARD_NATS_REPLICAS: "3" }, error: /needs a NATS cluster of at least 3 nodes/ },
    { argv: ["--nats-cluster", "3"], env: { YARD_NATS_PORT: "0" }, error: /fixed YARD_NATS_PORT/ },
  ])("refuses $argv $env", ({ argv, env, error }) => {
    const r = parseOptions(argv, env, ctx);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(error);
  });
});
