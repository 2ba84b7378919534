import { describe, expect, it } from "vitest";
import { allowedHostsFor, checkRequest, type GuardConfig } from "./http-guard.js";

const TOKEN = "api-token-0123456789abcdef";
const cfg: GuardConfig = {
  token: TOKEN,
  allowedHosts: allowedHostsFor("127.0.0.1", 7070, ["spec:7070"]),
  allowedOrigins: new Set(["http://console.example:3000"]),
};
const good = { host: "127.0.0.1:7070", authorization: `Bearer ${TOKEN}` };

describe("checkRequest", () => {
  it.each([
    { name: "the token on a loopback Host", h: good },
    { name: "localhost", h: { ...good, host: "LOCALHOST:7070" } },
    { name: "IPv6 loopback", h: { ...good, host: "[::1]:7070" } },
    { name: "an extra allowed host", h: { ...good, host: "spec:7070" } },
    { name: "an allowed origin", h: { ...good, origin: "http://console.example:3000" } },
    { name: "a lower-case scheme", h: { ...good, authorization: `bearer ${TOKEN}` } },
  ])("accepts $name", ({ h }) => {
    expect(checkRequest(h, cfg)).toEqual({ ok: true });
  });

  it.each([
    { name: "no Authorization", h: { host: good.host }, status: 401 },
    { name: "a wrong token", h: { ...good, authorization: "Bearer nope" }, status: 401 },
    { name: "a token prefix", h: { ...good, authorization: `Bearer ${TOKEN.slice(0, -1)}` }, status: 401 },
    { name: "Basic auth", h: { ...good, authorization: `Basic ${TOKEN}` }, status: 401 },
    { name: "a rebound DNS name", h: { ...good, host: "evil.example:7070" }, status: 403 },
    { name: "another port", h: { ...good, host: "127.0.0.1:7071" }, status: 403 },
    { name: "no Host", h: { authorization: good.authorization }, status: 403 },
    { name: "a foreign Origin", h: { ...good, origin: "http://evil.example" }, status: 403 },
    { name: "the null Origin", h: { ...good, origin: "null" }, status: 403 },
  ])("refuses $name with $status", ({ h, status }) => {
    const v = checkRequest(h, cfg);
    expect(v).toMatchObject({ ok: false, status });
    expect(JSON.stringify(v)).not.toContain(TOKEN);
  });
});

describe("allowedHostsFor", () => {
  it("a wildcard bind answers to loopback names only, plus the extras", () => {
    expect([...allowedHostsFor("0.0.0.0", 80, ["spec:80"])].sort()).toEqual([
      "127.0.0.1:80",
      "[::1]:80",
      "localhost:80",
      "spec:80",
    ]);
  });
  it("a specific address answers to itself", () => {
    expect([...allowedHostsFor("10.1.2.3", 7070, [])]).toEqual(["10.1.2.3:7070"]);
  });
});
