import { describe, expect, it } from "vitest";
import { z } from "zod";
import { admit } from "./admit.js";
import { requestIssues } from "./rpc.js";

describe("admit", () => {
  it.each([
    { name: "the CLI's request", reply: "_INBOX_cli.AbC.1", headers: [], ok: true },
    {
      name: "a push consumer's delivery (reply is its ack subject)",
      reply: "$JS.ACK.KV_yard-services.atk.1.1.1.1796082325061251140.2",
      headers: [],
      ok: false,
      answer: false,
      reason: /JetStream delivery/,
    },
    {
      name: "a heartbeat or republished record (no reply)",
      reply: undefined,
      headers: [],
      ok: false,
      answer: false,
    },
    {
      name: "another user's inbox",
      reply: "_INBOX_proxy.x",
      headers: [],
      ok: false,
      answer: false,
      reason: /not the inbox of a user allowed.*\(cli\)/,
    },
    {
      name: "a reply aimed at a stream API",
      reply: "$JS.API.STREAM.PURGE.KV_yard-specs",
      headers: [],
      ok: false,
      answer: false,
    },
    { name: "a prefix look-alike", reply: "_INBOX_cli2.x", headers: [], ok: false, answer: false },
    {
      name: "an allowed inbox with JetStream headers",
      reply: "_INBOX_cli.x",
      headers: ["Nats-Stream", "Nats-Sequence"],
      ok: false,
      answer: true,
      reason: /Nats-Stream, Nats-Sequence/,
    },
  ])("$name", ({ reply, headers, ok, answer, reason }) => {
    const v = admit({ reply, headerNames: headers }, ["cli"]);
    expect(v.ok).toBe(ok);
    if (!v.ok) {
      expect(v.answer).toBe(answer);
      if (reason) expect(v.reason).toMatch(reason);
    }
  });

  it("on a server without authorization takes any inbox, still no JetStream delivery", () => {
    expect(admit({ reply: "_INBOX.abc.1" }, "any").ok).toBe(true);
    expect(admit({ reply: "_INBOX_proxy.abc" }, "any").ok).toBe(true);
    expect(admit({ reply: "$JS.ACK.S.c.1.1.1.1.0" }, "any").ok).toBe(false);
    expect(admit({ reply: "$KV.yard-specs.evil" }, "any").ok).toBe(false);
  });

  it("a subject no user may call takes nobody", () => {
    expect(admit({ reply: "_INBOX_cli.x" }, [])).toMatchObject({ ok: false, reason: /\(nobody\)/ });
  });
});

describe("requestIssues", () => {
  it("names each unknown key by its path", () => {
    const S = z.strictObject({ name: z.string(), inner: z.strictObject({ a: z.number() }) });
    const r = S.safeParse({ name: "x", policy: {}, inner: { a: 1, b: 2 } });
    expect(r.success).toBe(false);
    expect(requestIssues(r.error!)).toEqual(
      expect.arrayContaining([
        { path: "policy", message: "unknown key" },
        { path: "inner.b", message: "unknown key" },
      ]),
    );
  });
});
