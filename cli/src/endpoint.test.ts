import { describe, expect, it } from "vitest";
import { endpointOf } from "./endpoint.js";

describe("endpointOf", () => {
  it.each([
    { name: "proxy defaults", env: {}, want: "http://llm.localhost:8080" },
    {
      name: "YARD_DOMAIN and YARD_PROXY_PORT",
      env: { YARD_DOMAIN: "ai.example.com", YARD_PROXY_PORT: "9000" },
      want: "http://llm.ai.example.com:9000",
    },
    { name: "port 80 is left out", env: { YARD_PROXY_PORT: "80" }, want: "http://llm.localhost" },
    {
      name: "YARD_PROXY_URL template wins",
      env: { YARD_PROXY_URL: "https://{service}.models.example.com", YARD_DOMAIN: "x" },
      want: "https://llm.models.example.com",
    },
    {
      name: "YARD_PROXY_URL without placeholder is used as is",
      env: { YARD_PROXY_URL: "https://gw.example.com" },
      want: "https://gw.example.com",
    },
  ])("$name", ({ env, want }) => {
    expect(endpointOf("llm", env)).toBe(want);
  });

  it.each([
    { name: "a service with service.tls", env: {}, tls: true, want: "https://llm.localhost:8080" },
    {
      name: "port 443 is left out",
      env: { YARD_PROXY_PORT: "443" },
      tls: true,
      want: "https://llm.localhost",
    },
    {
      name: "port 80 stays for https",
      env: { YARD_PROXY_PORT: "80" },
      tls: true,
      want: "https://llm.localhost:80",
    },
    {
      name: "a proxy-wide certificate",
      env: { YARD_PROXY_TLS_CERT: "/etc/yard/tls.crt" },
      tls: false,
      want: "https://llm.localhost:8080",
    },
    {
      name: "YARD_PROXY_TLS=yes",
      env: { YARD_PROXY_TLS: "yes" },
      tls: false,
      want: "https://llm.localhost:8080",
    },
    {
      name: "YARD_PROXY_TLS=false",
      env: { YARD_PROXY_TLS: "false" },
      tls: false,
      want: "http://llm.localhost:8080",
    },
    {
      name: "YARD_PROXY_URL still wins",
      env: { YARD_PROXY_URL: "http://gw.example.com/{service}" },
      tls: true,
      want: "http://gw.example.com/llm",
    },
  ])("https: $name", ({ env, tls, want }) => {
    expect(endpointOf("llm", env, tls)).toBe(want);
  });
});
