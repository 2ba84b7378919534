import { describe, expect, it } from "vitest";
import { chooseNats, type NatsProbe } from "./nats-choice.js";

describe("chooseNats", () => {
  it.each<{ name: string; explicit: boolean; probe: NatsProbe; action: string; text: RegExp | null }>([
    {
      name: "ours answers with our users",
      explicit: false,
      probe: { kind: "ok" },
      action: "use",
      text: /using the NATS/,
    },
    {
      name: "NATS_URL answers with our users",
      explicit: true,
      probe: { kind: "ok" },
      action: "use",
      text: /NATS_URL/,
    },
    {
      name: "nothing on our port",
      explicit: false,
      probe: { kind: "no-answer" },
      action: "spawn",
      text: null,
    },
    {
      name: "nothing at NATS_URL",
      explicit: true,
      probe: { kind: "no-answer" },
      action: "spawn",
      text: /nothing answers at NATS_URL.*starting our own/,
    },
    {
      name: "NATS_URL without auth (a default nats-server)",
      explicit: true,
      probe: { kind: "no-auth" },
      action: "fail",
      text: /has no users.*deploy\/nats\/server.conf.*unset NATS_URL/,
    },
    {
      name: "our port taken by a server without auth",
      explicit: false,
      probe: { kind: "no-auth" },
      action: "fail",
      text: /has no users.*YARD_NATS_PORT to a free port/,
    },
    {
      name: "NATS_URL refuses a user",
      explicit: true,
      probe: { kind: "refused", user: "proxy" },
      action: "fail",
      text: /refuses Switchyard's user "proxy".*YARD_NATS_<USER>_PASS/,
    },
  ])("$name → $action", ({ explicit, probe, action, text }) => {
    const c = chooseNats("nats://h:4222", explicit, probe);
    expect(c.action).toBe(action);
    const said = c.action === "fail" ? c.message : c.note;
    if (text) expect(said).toMatch(text);
    else expect(said).toBeNull();
  });
});
