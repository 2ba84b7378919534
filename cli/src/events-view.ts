// @pure: no I/O (tools/lint-boundaries checks it)
import type { StoredEvent } from "@switchyard/bus";
import type { YardEvent } from "@switchyard/contracts";

/**
 * One line per event for `yard events`: TIME (when the stream stored it, UTC), SERVICE, TYPE,
 * then what happened, replica events starting with `replica N (rev R)`. Only the fields named
 * here are printed (never a field an event type might carry beside them, such as env or
 * headers), each on one line with control characters shown as U+FFFD: a message is text from
 * a replica's world (a probe error, an exit) and must not drive the terminal.
 */
export function eventLine(e: StoredEvent): string {
  const time = Number.isNaN(e.time.getTime()) ? "-" : e.time.toISOString();
  if (!e.event) {
    const [service = "?", ...type] = e.subject.split(".").slice(2);
    return clean(`${time}  ${service}  ${type.join(".") || "?"}  (not an event this yard reads: ${e.issue})`);
  }
  const ev = e.event;
  return clean(`${time}  ${ev.service}  ${ev.type.padEnd(TYPE_WIDTH)}  ${what(ev)}`);
}

/** `--json`: the event as parsed (its schema's fields only), one object per line; null for one that is not an event. */
export function eventJson(e: StoredEvent): string | null {
  return e.event ? JSON.stringify(e.event) : null;
}

/** The longest type name of today ("replica.phase_changed"): the detail column then aligns. */
const TYPE_WIDTH = 21;

function what(ev: YardEvent): string {
  switch (ev.type) {
    case "spec.published":
      return `revision ${ev.revision} published`;
    case "spec.deleted":
      return `deleted (last revision ${ev.revision})`;
    case "replica.launched":
      return `${replica(ev)}: launched${ev.url ? ` at ${ev.url}` : ""}`;
    case "replica.phase_changed":
      return `${replica(ev)}: ${ev.phase}${why(ev.reason, ev.message)}`;
    case "replica.ready":
      return `${replica(ev)}: ready at ${ev.url}`;
    case "replica.unready":
      return `${replica(ev)}: not ready: ${ev.message}`;
    case "replica.failed":
      return `${replica(ev)}: ${ev.phase}${why(ev.reason, ev.message)}`;
    case "replica.terminated":
      return `${replica(ev)}: terminated${why(ev.reason, null)}`;
    case "replica.draining":
      return `${replica(ev)}: draining until no request is in flight, at most until ${ev.deadline}${why(ev.reason, null)}`;
    case "replica.drained":
      return ev.outcome === "idle"
        ? `${replica(ev)}: drained (no request in flight) after ${seconds(ev.waited_ms)}`
        : `${replica(ev)}: drain timed out after ${seconds(ev.waited_ms)} with ${ev.in_flight} in flight`;
    case "traffic.switched":
      return `revision ${ev.revision}: traffic ${revisions(ev.from)} → ${revisions(ev.to)} (${ev.mode})`;
    case "autoscaler.decided": {
      const qps = ev.qps === null ? "" : `, ${round(ev.qps)} QPS`;
      return `revision ${ev.revision}: target ${ev.from ?? "none"} → ${ev.to} replicas (${ev.reason}${qps})`;
    }
    default:
      return generic(ev);
  }
}

/**
 * A type this formatter does not know yet (added to the contracts later): its replica, phase,
 * reason and message, then the plain fields of SHOWN as `key=value`; nothing else.
 */
function generic(ev: object): string {
  const f = ev as Record<string, unknown>;
  const str = (k: string) => (typeof f[k] === "string" ? (f[k] as string) : null);
  const r =
    typeof f.replica_id === "number" ? replica({ replica_id: f.replica_id, revision: f.revision }) : "";
  const extra = SHOWN.filter((k) => plain(f[k])).map((k) => `${k}=${String(f[k])}`);
  const body = [`${str("phase") ?? ""}${why(str("reason"), str("message"))}`.trim(), ...extra]
    .filter(Boolean)
    .join(" ");
  return [r, body].filter(Boolean).join(": ") || "-";
}

/** Fields an event may have that are safe to show whatever their type (no secret is ever one). */
const SHOWN = ["url", "outcome", "in_flight", "waited_ms", "deadline", "mode", "from", "to"];

/** A string, number or boolean, or a list of numbers: nothing nested. */
function plain(v: unknown): boolean {
  if (Array.isArray(v)) return v.every((x) => typeof x === "number");
  return ["string", "number", "boolean"].includes(typeof v);
}

function replica(ev: { replica_id: number; revision?: unknown }): string {
  return typeof ev.revision === "number"
    ? `replica ${ev.replica_id} (rev ${ev.revision})`
    : `replica ${ev.replica_id}`;
}

/** " (Reason: message)", " (Reason)", " (message)" or "". */
function why(reason: string | null, message: string | null): string {
  const parts = [reason, message].filter((p): p is string => !!p);
  return parts.length ? ` (${parts.join(": ")})` : "";
}

function seconds(ms: number): string {
  return `${round(ms / 1000)} s`;
}

/** [1, 2] → "1,2" (SkyServe's VERSION column); [] → "none". */
function revisions(rs: readonly number[]): string {
  return rs.length ? rs.join(",") : "none";
}

function round(n: number): string {
  return String(Math.round(n * 100) / 100);
}

// Colour and title sequences dropped, then every other control character (newlines included:
// one event, one line) and the line/paragraph separators shown as U+FFFD.
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g;
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

function clean(line: string): string {
  return line.replace(ESCAPES, "").replace(CONTROLS, "\ufffd");
}
