import { describe, expect, it } from "vitest";
import { resolveService, serviceFromHost } from "./host.js";

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
