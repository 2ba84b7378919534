import type { StoredEvent } from "@switchyard/bus";
import { YardEvent } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { eventJson, eventLine } from "./events-view.js";

const time = new Date("2026-01-01T10:00:00.123Z");
const at = "2026-01-01T10:00:00.100Z";
const base = { schema: 1, service: "llm", at } as const;
const rep = { ...base, replica_id: 2, revision: 3 } as const;

/** A stored event as the reader hands it over: validated by the contract first. */
function stored(ev: unknown): StoredEvent {
  const event = YardEvent.parse(ev);
  return { seq: 7, time, subject: `yard.events.${event.service}.${event.type}`, event };
}

describe("eventLine", () => {
  it.each<{ name: string; ev: unknown; want: string }>([
    {
      name: "spec published",
      ev: { ...base, type: "spec.published", revision: 3 },
      want: "llm  spec.published         revision 3 published",
    },
    {
      name: "spec deleted",
      ev: { ...base, type: "spec.deleted", revision: 3 },
      want: "llm  spec.deleted           deleted (last revision 3)",
    },
    {
      name: "replica launched",
      ev: { ...rep, type: "replica.launched", url: "http://127.0.0.1:8001" },
      want: "llm  replica.launched       replica 2 (rev 3): launched at http://127.0.0.1:8001",
    },
    {
      name: "replica launched, no url yet",
      ev: { ...rep, type: "replica.launched", url: null },
      want: "llm  replica.launched       replica 2 (rev 3): launched",
    },
    {
      name: "phase change without a reason",
      ev: { ...rep, type: "replica.phase_changed", phase: "STARTING", reason: null, message: null },
      want: "llm  replica.phase_changed  replica 2 (rev 3): STARTING",
    },
    {
      name: "phase change with reason and message",
      ev: {
        ...rep,
        type: "replica.phase_changed",
        phase: "FAILED",
        reason: "ProcessExited",
        message: "run exited with code 3",
      },
      want: "llm  replica.phase_changed  replica 2 (rev 3): FAILED (ProcessExited: run exited with code 3)",
    },
    {
      name: "ready",
      ev: { ...rep, type: "replica.ready", url: "http://127.0.0.1:8001" },
      want: "llm  replica.ready          replica 2 (rev 3): ready at http://127.0.0.1:8001",
    },
    {
      name: "unready (a probe verdict)",
      ev: { ...rep, type: "replica.unready", message: "readiness probe GET /health got HTTP 503" },
      want: "llm  replica.unready        replica 2 (rev 3): not ready: readiness probe GET /health got HTTP 503",
    },
    {
      name: "failed (a probe verdict)",
      ev: {
        ...rep,
        type: "replica.failed",
        phase: "FAILED_PROBING",
        reason: "ProbeFailing",
        message: "not ready for 20 s",
      },
      want: "llm  replica.failed         replica 2 (rev 3): FAILED_PROBING (ProbeFailing: not ready for 20 s)",
    },
    {
      name: "terminated with a reason",
      ev: { ...rep, type: "replica.terminated", reason: "ScaledDown" },
      want: "llm  replica.terminated     replica 2 (rev 3): terminated (ScaledDown)",
    },
    {
      name: "terminated without",
      ev: { ...rep, type: "replica.terminated", reason: null },
      want: "llm  replica.terminated     replica 2 (rev 3): terminated",
    },
    {
      name: "draining",
      ev: { ...rep, type: "replica.draining", reason: "ScaledDown", deadline: "2026-01-01T10:02:00.000Z" },
      want: "llm  replica.draining       replica 2 (rev 3): draining until no request is in flight, at most until 2026-01-01T10:02:00.000Z (ScaledDown)",
    },
    {
      name: "drained, idle",
      ev: { ...rep, type: "replica.drained", outcome: "idle", in_flight: 0, waited_ms: 4321 },
      want: "llm  replica.drained        replica 2 (rev 3): drained (no request in flight) after 4.32 s",
    },
    {
      name: "drain timed out",
      ev: { ...rep, type: "replica.drained", outcome: "timeout", in_flight: 3, waited_ms: 120_000 },
      want: "llm  replica.drained        replica 2 (rev 3): drain timed out after 120 s with 3 in flight",
    },
    {
      name: "traffic switched (blue-green)",
      ev: { ...base, type: "traffic.switched", revision: 2, mode: "blue_green", from: [1], to: [2] },
      want: "llm  traffic.switched       revision 2: traffic 1 → 2 (blue_green)",
    },
    {
      name: "traffic switched (rolling, both serve)",
      ev: { ...base, type: "traffic.switched", revision: 2, mode: "rolling", from: [], to: [1, 2] },
      want: "llm  traffic.switched       revision 2: traffic none → 1,2 (rolling)",
    },
    {
      name: "autoscaler decision",
      ev: {
        ...base,
        type: "autoscaler.decided",
        revision: 3,
        from: 1,
        to: 3,
        reason: "qps",
        qps: 4.2567,
        target_qps_per_replica: 2,
      },
      want: "llm  autoscaler.decided     revision 3: target 1 → 3 replicas (qps, 4.26 QPS)",
    },
    {
      name: "autoscaler's first decision, no QPS yet",
      ev: {
        ...base,
        type: "autoscaler.decided",
        revision: 1,
        from: null,
        to: 1,
        reason: "min_replicas",
        qps: null,
        target_qps_per_replica: null,
      },
      want: "llm  autoscaler.decided     revision 1: target none → 1 replicas (min_replicas)",
    },
  ])("$name", ({ ev, want }) => {
    expect(eventLine(stored(ev))).toBe(`2026-01-01T10:00:00.123Z  ${want}`);
  });

  it("a message cannot drive the terminal or break the line: escapes dropped, controls shown as U+FFFD", () => {
    const ev = stored({
      ...rep,
      type: "replica.unready",
      message: "got \u001b[31mHTTP 503\u001b[0m\nFAKE 2026 line\r\u0007\u2028end",
    });
    expect(eventLine(ev)).toBe(
      "2026-01-01T10:00:00.123Z  llm  replica.unready        replica 2 (rev 3): not ready: got HTTP 503\ufffdFAKE 2026 line\ufffd\ufffd\ufffdend",
    );
  });

  it("prints the named fields only: a field beside them (env, headers) never shows", () => {
    const event = {
      ...rep,
      type: "replica.launched",
      url: "http://127.0.0.1:1",
      env: { AUTH_TOKEN: "s3cret" },
      headers: { authorization: "Bearer s3cret" },
    } as unknown as YardEvent;
    const e: StoredEvent = { seq: 1, time, subject: "yard.events.llm.replica.launched", event };
    expect(eventLine(e)).not.toContain("s3cret");
    expect(eventJson(stored(event))).not.toContain("s3cret");
  });

  it("an event type added later (not known to this formatter): replica, phase, reason, message and plain known fields only", () => {
    const event = {
      ...rep,
      type: "replica.paused",
      phase: "SHUTTING_DOWN",
      reason: "ScaledDown",
      message: "0 in flight",
      outcome: "idle",
      in_flight: 0,
      token: "s3cret",
      headers: { authorization: "s3cret" },
    } as unknown as YardEvent;
    const line = eventLine({ seq: 1, time, subject: "yard.events.llm.replica.paused", event });
    expect(line).toBe(
      "2026-01-01T10:00:00.123Z  llm  replica.paused         replica 2 (rev 3): SHUTTING_DOWN (ScaledDown: 0 in flight) outcome=idle in_flight=0",
    );
    const switched = { ...base, type: "traffic.moved", from: [1], to: [1, 2], mode: { x: "s3cret" } };
    expect(
      eventLine({
        seq: 1,
        time,
        subject: "yard.events.llm.traffic.moved",
        event: switched as unknown as YardEvent,
      }),
    ).toBe("2026-01-01T10:00:00.123Z  llm  traffic.moved          from=1 to=1,2");
    const bare = { ...base, type: "update.started" } as unknown as YardEvent;
    expect(eventLine({ seq: 1, time, subject: "yard.events.llm.update.started", event: bare })).toBe(
      "2026-01-01T10:00:00.123Z  llm  update.started         -",
    );
  });

  it("a message that is not an event: service and type from its subject, and why", () => {
    const e: StoredEvent = {
      seq: 9,
      time,
      subject: "yard.events.llm.replica.ready",
      event: null,
      issue: "url: expected string",
    };
    expect(eventLine(e)).toBe(
      "2026-01-01T10:00:00.123Z  llm  replica.ready  (not an event this yard reads: url: expected string)",
    );
    expect(eventJson(e)).toBeNull();
  });
});

describe("eventJson", () => {
  it("one line: the event with its schema's fields", () => {
    const ev = { ...rep, type: "replica.ready", url: "http://127.0.0.1:8001" };
    const line = eventJson(stored(ev));
    expect(line).not.toContain("\n");
    expect(JSON.parse(line ?? "")).toEqual(ev);
  });
});
