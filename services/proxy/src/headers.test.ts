import { describe, expect, it } from "vitest";
import {
  addForwarded,
  filterRequestHeaders,
  filterResponseHeaders,
  responseHeadersFromRaw,
} from "./headers.js";

describe("filterRequestHeaders", () => {
  it.each([
    {
      name: "end-to-end headers kept verbatim, case, order and repeats included",
      raw: ["Authorization", "Bearer abc.DEF==", "X-Multi", "a", "x-multi", "b,  c ", "Accept", "*/*"],
      want: ["Authorization", "Bearer abc.DEF==", "X-Multi", "a", "x-multi", "b,  c ", "Accept", "*/*"],
    },
    {
      name: "RFC 9110 hop-by-hop headers dropped",
      raw: [
        "Connection",
        "keep-alive",
        "Keep-Alive",
        "timeout=5",
        "TE",
        "trailers",
        "Transfer-Encoding",
        "chunked",
        "Upgrade",
        "h2c",
        "Proxy-Connection",
        "keep-alive",
        "X-Ok",
        "1",
      ],
      want: ["X-Ok", "1"],
    },
    {
      name: "headers named by Connection dropped",
      raw: ["Connection", "close, X-Hop", "X-Hop", "secret-hop", "X-Keep", "1"],
      want: ["X-Keep", "1"],
    },
    {
      name: "Connection: keep-alive names nothing else; Connection: close drops a field named Close",
      raw: ["Connection", "keep-alive", "Close", "x", "Connection", "close", "Authorization", "Bearer t"],
      want: ["Authorization", "Bearer t"],
    },
    {
      name: "Host replaced by the replica's, Expect answered by the proxy",
      raw: ["Host", "llm.localhost:8080", "Expect", "100-continue", "Content-Length", "3"],
      want: ["Content-Length", "3"],
    },
    {
      name: "Proxy-Authorization passes (this proxy asks for no proxy credentials)",
      raw: ["Proxy-Authorization", "Basic Zm9vOmJhcg=="],
      want: ["Proxy-Authorization", "Basic Zm9vOmJhcg=="],
    },
    {
      name: "latin1 bytes in values survive",
      raw: ["X-Odd", 'caf\u00e9 \u00ff ; q="a,b"'],
      want: ["X-Odd", 'caf\u00e9 \u00ff ; q="a,b"'],
    },
  ])("$name", ({ raw, want }) => {
    expect(filterRequestHeaders(raw)).toEqual(want);
  });
});

describe("filterResponseHeaders", () => {
  it("keeps every Set-Cookie and drops framing/hop-by-hop headers", () => {
    const raw = [
      "Set-Cookie",
      "a=1; Path=/",
      "Transfer-Encoding",
      "chunked",
      "Set-Cookie",
      "b=2",
      "Connection",
      "keep-alive",
      "Keep-Alive",
      "timeout=5",
      "WWW-Authenticate",
      "Bearer",
    ];
    expect(filterResponseHeaders(raw)).toEqual([
      "Set-Cookie",
      "a=1; Path=/",
      "Set-Cookie",
      "b=2",
      "WWW-Authenticate",
      "Bearer",
    ]);
  });
});

describe("addForwarded", () => {
  it.each([
    {
      name: "adds For/Proto/Host",
      headers: ["Accept", "*/*"],
      want: [
        "Accept",
        "*/*",
        "x-forwarded-for",
        "10.0.0.9",
        "x-forwarded-proto",
        "http",
        "x-forwarded-host",
        "llm.localhost",
      ],
    },
    {
      name: "appends to the client's X-Forwarded-For, replaces Proto/Host",
      headers: ["X-Forwarded-For", "1.2.3.4", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil"],
      want: [
        "x-forwarded-for",
        "1.2.3.4, 10.0.0.9",
        "x-forwarded-proto",
        "http",
        "x-forwarded-host",
        "llm.localhost",
      ],
    },
  ])("$name", ({ headers, want }) => {
    expect(addForwarded(headers, { clientIp: "10.0.0.9", proto: "http", host: "llm.localhost" })).toEqual(
      want,
    );
  });
});

describe("responseHeadersFromRaw", () => {
  it.each([
    {
      name: "same result as the string filter, from raw buffers",
      raw: ["Set-Cookie", "a=1", "Transfer-Encoding", "chunked", "Set-Cookie", "b=2", "X-Odd", "caf\u00e9"],
    },
    {
      name: "headers named by Connection dropped even when they come first",
      raw: ["X-Hop", "1", "Connection", "X-Hop, close", "Keep-Alive", "timeout=5", "X-Keep", "2"],
    },
  ])("$name", ({ raw }) => {
    const buffers = raw.map((s) => Buffer.from(s, "latin1"));
    expect(responseHeadersFromRaw(buffers)).toEqual(filterResponseHeaders(raw));
  });
});
