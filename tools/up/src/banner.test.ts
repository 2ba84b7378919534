import { describe, expect, it } from "vitest";
import { banner, curlLine, portOf } from "./banner.js";

describe("portOf", () => {
  it.each([
    { address: "http://0.0.0.0:8080", port: 8080 },
    { address: "http://[::]:9091", port: 9091 },
    { address: "http://127.0.0.1:40123/", port: 40123 },
  ])("$address → $port", ({ address, port }) => {
    expect(portOf(address)).toBe(port);
  });
});

describe("banner", () => {
  const base = {
    proxyPorts: [8080, 8081],
    specHttp: "http://127.0.0.1:7070",
    natsUrl: "nats://127.0.0.1:4333",
    cliPass: "cli-dev",
    stateDir: "/repo/.yard",
  };

  it("prints each proxy and the curl line with the token exactly once", () => {
    const text = banner({ ...base, service: "local-auth", token: "T0K" });
    expect(text).toContain("proxy 1:      http://localhost:8080");
    expect(text).toContain("proxy 2:      http://localhost:8081");
    expect(text).toContain(curlLine("local-auth", "T0K", 8080));
    expect(text.split("T0K")).toHaveLength(2);
    expect(text).toContain("NATS_URL=nats://127.0.0.1:4333 NATS_USER=cli NATS_PASS=cli-dev pnpm yard status");
  });

  it("has no curl line without the example", () => {
    expect(banner({ ...base, service: null, token: null })).not.toContain("curl");
  });

  it("curl line: bearer token, service host on the proxy port", () => {
    expect(curlLine("llm", "abc", 8081)).toBe(
      'curl -H "Authorization: Bearer abc" http://llm.localhost:8081/v1/models',
    );
  });
});
