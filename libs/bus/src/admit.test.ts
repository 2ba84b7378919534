import { describe, expect, it } from "vitest";
import { admitPublished } from "./admit.js";

describe("admitPublished (one-way subjects: hints)", () => {
  it.each([
    { name: "the proxy's plain publish", reply: undefined, headers: [], ok: true },
    {
      name: "a push consumer's delivery (its ack subject as reply)",
      reply: "$JS.ACK.KV_yard-endpoints.atk.1.1.1.1796082325061251140.0",
      headers: [],
      ok: false,
      reason: "a JetStream delivery, not a published message",
    },
    {
      name: "a request (an inbox as reply)",
      reply: "_INBOX_proxy.x",
      headers: [],
      ok: false,
      reason: "carries a reply subject: a request, not a published message",
    },
    {
      name: "a republished record (JetStream headers, no reply)",
      reply: undefined,
      headers: ["Nats-Stream", "Nats-Subject", "Nats-Sequence"],
      ok: false,
      reason: "carries JetStream headers (Nats-Stream, Nats-Subject, Nats-Sequence)",
    },
    { name: "other headers", reply: undefined, headers: ["X-Trace"], ok: true },
  ])("$name: ok=$ok", ({ reply, headers, ok, reason }) => {
    const v = admitPublished({ reply, headerNames: headers });
    expect(v.ok).toBe(ok);
    if (!v.ok) expect(v).toEqual({ ok: false, reason, answer: false });
  });
});
