import { describe, expect, it } from "vitest";
import { banner, curlLine, portOf, shellWord, specCurlLine } from "./banner.js";

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
    specTokenFile: "/repo/.yard/spec-api.token",
  };

  it("prints each proxy and the curl line with the token exactly once", () => {
    const text = banner({ ...base, service: "local-auth", token: "T0K" });
    expect(text).toContain("proxy 1:      http://localhost:8080");
    expect(text).toContain("proxy 2:      http://localhost:8081");
    expect(text).toContain(curlLine("local-auth", "T0K", 8080));
    expect(text.split("T0K")).toHaveLength(2);
    expect(text).toContain("NATS_URL=nats://127.0.0.1:4333 NATS_USER=cli NATS_PASS=cli-dev pnpm yard status");
  });

  it("has no example curl line without the example", () => {
    expect(banner({ ...base, service: null, token: null })).not.toContain("/v1/models");
  });

  it("says where the spec API's token is and how to use it, the shell reading the file", () => {
    const text = banner({ ...base, service: null, token: null });
    expect(text).toContain(
      "spec API:     http://127.0.0.1:7070 (bearer token in /repo/.yard/spec-api.token)",
    );
    expect(text).toContain(
      'curl -H "Authorization: Bearer $(cat /repo/.yard/spec-api.token)" http://127.0.0.1:7070/v1/services',
    );
  });

  it("has no spec API lines when the spec service serves no HTTP", () => {
    expect(banner({ ...base, specHttp: null, service: null, token: null })).not.toContain("spec");
  });

  it("curl line: bearer token, service host on the proxy port", () => {
    expect(curlLine("llm", "abc", 8081)).toBe(
      'curl -H "Authorization: Bearer abc" http://llm.localhost:8081/v1/models',
    );
  });
});

describe("specCurlLine", () => {
  it("quotes a token path with spaces or quotes as one shell word; a wildcard address becomes loopback", () => {
    expect(specCurlLine("http://0.0.0.0:7070/", "/home/a b/it's/spec-api.token")).toBe(
      `curl -H "Authorization: Bearer $(cat '/home/a b/it'\\''s/spec-api.token')" http://127.0.0.1:7070/v1/services`,
    );
    expect(shellWord("/plain/path-1.x")).toBe("/plain/path-1.x");
  });
});
