import { describe, expect, it } from "vitest";
import { resolveService, serviceFromHost, splitTarget } from "./host.js";

describe("serviceFromHost", () => {
  it.each([
    { name: "service.domain", host: "llm.localhost", domain: "localhost", want: "llm" },
    { name: "port stripped", host: "llm.localhost:8080", domain: "localhost", want: "llm" },
    { name: "case-insensitive", host: "LLM.LocalHost:8080", domain: "localhost", want: "llm" },
    { name: "trailing dot (FQDN)", host: "llm.localhost.", domain: "localhost", want: "llm" },
    { name: "multi-label domain", host: "chat.yard.example.com", domain: "yard.example.com", want: "chat" },
    { name: "bare domain names no service", host: "localhost:8080", domain: "localhost", want: null },
    { name: "IP address", host: "127.0.0.1:8080", domain: "localhost", want: null },
    { name: "IPv6 literal", host: "[::1]:8080", domain: "localhost", want: null },
    { name: "two labels before the domain", host: "a.b.localhost", domain: "localhost", want: null },
    { name: "suffix without a dot boundary", host: "llmlocalhost", domain: "localhost", want: null },
    { name: "other domain", host: "llm.example.com", domain: "localhost", want: null },
    { name: "no Host", host: undefined, domain: "localhost", want: null },
  ])("$name", ({ host, domain, want }) => {
    expect(serviceFromHost(host, domain)).toBe(want);
  });
});

describe("resolveService", () => {
  const known: Record<string, string> = { llm: "LLM", emb: "EMB" };
  const lookup = (n: string) => known[n];
  it.each([
    { name: "Host names a service", host: "emb.localhost", def: undefined, only: undefined, want: "EMB" },
    {
      name: "Host names an unknown one: 404, no fallback",
      host: "x.localhost",
      def: "llm",
      only: "LLM",
      want: "unknown:x",
    },
    {
      name: "no name in Host → default service",
      host: "127.0.0.1",
      def: "llm",
      only: undefined,
      want: "LLM",
    },
    {
      name: "default names an unknown service",
      host: "127.0.0.1",
      def: "gone",
      only: "LLM",
      want: "unknown:gone",
    },
    { name: "no default → the only service", host: "127.0.0.1", def: undefined, only: "LLM", want: "LLM" },
    {
      name: "several services and no hint → unknown",
      host: "127.0.0.1",
      def: undefined,
      only: undefined,
      want: "unknown:null",
    },
  ])("$name", ({ host, def, only, want }) => {
    const r = resolveService(host, "localhost", def, lookup, () => only);
    expect(r.kind === "service" ? r.service : `unknown:${r.name}`).toBe(want);
  });
});

describe("splitTarget (RFC 9112 §3.2)", () => {
  it.each([
    { name: "origin-form", url: "/v1/models?x=1", want: { authority: null, path: "/v1/models?x=1" } },
    { name: "asterisk-form", url: "*", want: { authority: null, path: "*" } },
    {
      name: "absolute-form",
      url: "http://llm.localhost:8080/v1/models?x=1",
      want: { authority: "llm.localhost:8080", path: "/v1/models?x=1" },
    },
    {
      name: "scheme in any case",
      url: "HTTP://llm.localhost/",
      want: { authority: "llm.localhost", path: "/" },
    },
    {
      name: "https scheme",
      url: "https://llm.localhost/a",
      want: { authority: "llm.localhost", path: "/a" },
    },
    { name: "empty path", url: "http://llm.localhost", want: { authority: "llm.localhost", path: "/" } },
    {
      name: "query without path",
      url: "http://llm.localhost?q",
      want: { authority: "llm.localhost", path: "/?q" },
    },
    {
      name: "fragment dropped",
      url: "http://llm.localhost/a#frag",
      want: { authority: "llm.localhost", path: "/a" },
    },
    { name: "userinfo refused", url: "http://user:pw@llm.localhost/", want: null },
    { name: "empty authority", url: "http:///v1/models", want: null },
    { name: "authority-form (CONNECT)", url: "llm.localhost:443", want: null },
    { name: "other scheme", url: "ftp://llm.localhost/", want: null },
  ])("$name", ({ url, want }) => {
    expect(splitTarget(url)).toEqual(want);
  });
});
