import { LOAD_SCHEMA_VERSION, type LoadReport } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { LoadBook } from "./load-book.js";
import { QpsWindow } from "./qps-window.js";

const S = 1000;
const WINDOW = 60 * S;

function report(proxy: string, seq: number, requests: number, o: Partial<LoadReport> = {}): LoadReport {
  return {
    schema: LOAD_SCHEMA_VERSION,
    proxy_id: proxy,
    service: "llm",
    seq,
    interval_ms: 1000,
    requests,
    in_flight: {},
    held: 0,
    sent_at: "2026-01-01T00:00:00.000Z",
    ...o,
  };
}

/** Proxies reporting once a second from `from` to `to` (s), each with its own rate per second. */
function feed(book: LoadBook, rates: Record<string, number>, from: number, to: number, seq0 = 1): number {
  let seq = seq0;
  for (let t = from; t <= to; t++, seq++)
    for (const [p, n] of Object.entries(rates)) book.report(report(p, seq, n), t * S);
  return seq;
}

describe("QpsWindow", () => {
  it("counts what arrived in (now - window, now]", () => {
    const w = new QpsWindow(10 * S);
    w.add(1 * S, 5);
    w.add(5 * S, 3);
    w.add(11 * S, 2);
    expect(w.count(11 * S)).toBe(5); // the entry at 1 s is out at 11 s (boundary excluded)
    expect(w.count(15 * S)).toBe(2);
    expect(w.size(30 * S)).toBe(0);
  });

  it("keeps a long run bounded", () => {
    const w = new QpsWindow(10);
    for (let t = 0; t < 100_000; t++) w.add(t, 1);
    expect(w.count(100_000)).toBe(9);
    expect(w.size(100_000)).toBe(9);
  });
});

describe("LoadBook", () => {
  const opts = { windowMs: WINDOW, warmupMs: 5 * S };

  it("three proxies: the QPS is the sum of their reports over the window (SkyServe's count / 60)", () => {
    const book = new LoadBook(opts, 0);
    feed(book, { a: 1, b: 2, c: 3 }, 1, 120);
    const v = book.view("llm", 120 * S);
    expect(v.qps).toBeCloseTo((60 * (1 + 2 + 3)) / 60, 9);
    expect(v).toMatchObject({ proxies: 3, evidence: "full" });
  });

  it("after a restart: nothing for the warm-up, then the real rate (not diluted), downs only after a window", () => {
    const book = new LoadBook(opts, 1000 * S);
    // Proxies that have run for long: their seq is far from 1.
    feed(book, { a: 4, b: 4 }, 1001, 1003, 500);
    expect(book.view("llm", 1003 * S).evidence).toBe("none");
    feed(book, { a: 4, b: 4 }, 1004, 1010, 503);
    const early = book.view("llm", 1010 * S);
    expect(early.evidence).toBe("partial");
    expect(early.qps).toBeCloseTo(8, 9);
    feed(book, { a: 4, b: 4 }, 1011, 1060, 510);
    expect(book.view("llm", 1060 * S)).toMatchObject({ evidence: "full" });
    expect(book.view("llm", 1060 * S).qps).toBeCloseTo(8, 9);
  });

  it("a gap in a proxy's seq (lost reports): its rate restarts after the gap, partial for a window", () => {
    const book = new LoadBook(opts, 0);
    const next = feed(book, { a: 2 }, 1, 100);
    // Ten reports lost, then the load is 6/s.
    feed(book, { a: 6 }, 111, 120, next + 10);
    const v = book.view("llm", 120 * S);
    expect(v.evidence).toBe("partial");
    expect(v.qps).toBeCloseTo(6, 9);
    feed(book, { a: 6 }, 121, 181, next + 20);
    expect(book.view("llm", 181 * S).evidence).toBe("full");
  });

  it("a silent proxy makes the window partial until its last report has left it", () => {
    const book = new LoadBook(opts, 0);
    feed(book, { a: 1, b: 1 }, 1, 100);
    feed(book, { a: 1 }, 101, 120, 101);
    expect(book.view("llm", 120 * S).evidence).toBe("partial");
    feed(book, { a: 1 }, 121, 161, 121);
    expect(book.view("llm", 161 * S)).toMatchObject({ evidence: "full", proxies: 1 });
  });

  it("a fast-reporting proxy's first request is not a burst: its rate is over at least a second", () => {
    const book = new LoadBook(opts, 0);
    // 200 ms reports: 1 request in the first one read as 5 QPS (a service at zero went to max).
    book.report(report("a", 1, 1, { interval_ms: 200 }), 100 * S);
    expect(book.view("llm", 100 * S).qps).toBe(1);
    // A real burst still shows at once: 9 requests in its first second are 9 QPS.
    for (let i = 2; i <= 5; i++)
      book.report(report("a", i, 2, { interval_ms: 200 }), 100 * S + (i - 1) * 200);
    expect(book.view("llm", 100 * S + 800).qps).toBeCloseTo(9);
  });

  it("a proxy that starts (seq 1) is complete from its first report", () => {
    const book = new LoadBook(opts, 0);
    const next = feed(book, { a: 1 }, 1, 100);
    book.report(report("new", 1, 5), 101 * S);
    book.report(report("a", next, 1), 101 * S);
    expect(book.view("llm", 101 * S).evidence).toBe("full");
  });

  it("a NATS outage: nothing decided while down and for the warm-up after, then partial", () => {
    const book = new LoadBook(opts, 0);
    const next = feed(book, { a: 3 }, 1, 100);
    book.connectionLost();
    expect(book.view("llm", 101 * S).evidence).toBe("none");
    book.connectionBack(130 * S);
    feed(book, { a: 3 }, 131, 134, next + 30);
    expect(book.view("llm", 134 * S).evidence).toBe("none");
    feed(book, { a: 3 }, 135, 140, next + 34);
    expect(book.view("llm", 140 * S)).toMatchObject({ evidence: "partial" });
    expect(book.view("llm", 140 * S).qps).toBeCloseTo(3, 9);
  });

  it("duplicates are ignored; a proxy restarted under its id (seq 1 again) continues", () => {
    const book = new LoadBook(opts, 0);
    feed(book, { a: 1 }, 1, 70);
    expect(book.report(report("a", 70, 100), 71 * S)).toBe("duplicate");
    expect(book.report(report("a", 1, 1), 71 * S)).toBe("ok");
    expect(book.report(report("a", 2, 1), 72 * S)).toBe("ok");
    expect(book.view("llm", 72 * S)).toMatchObject({ evidence: "full" });
    expect(book.view("llm", 72 * S).qps).toBeCloseTo(1, 9);
  });

  it("held and in-flight requests sum over proxies that still report", () => {
    const book = new LoadBook(opts, 0);
    book.report(report("a", 1, 0, { held: 2, in_flight: { "1": 3, "2": 1 } }), 10 * S);
    book.report(report("b", 1, 0, { held: 1 }), 10 * S);
    expect(book.view("llm", 10 * S)).toMatchObject({ held: 3, inFlight: 4 });
    expect(book.view("llm", 20 * S)).toMatchObject({ held: 0, inFlight: 0 });
  });

  it("caps the proxies per service and the services it keeps", () => {
    const book = new LoadBook({ ...opts, maxProxies: 2, maxServices: 1 }, 0);
    expect(book.report(report("a", 1, 1), 0)).toBe("ok");
    expect(book.report(report("b", 1, 1), 0)).toBe("ok");
    expect(book.report(report("c", 1, 1), 0)).toBe("too_many_proxies");
    expect(book.report(report("a", 1, 1, { service: "other" }), 0)).toBe("too_many_services");
    book.prune(WINDOW + 1);
    expect(book.report(report("a", 1, 1, { service: "other" }), WINDOW + 1)).toBe("ok");
  });

  it("a quiet proxy reports by heartbeat (next_ms): not silent between heartbeats, silent after 3", () => {
    const book = new LoadBook(opts, 0);
    feed(book, { a: 2 }, 1, 100);
    const quiet = { next_ms: 10 * S };
    let seq = 1;
    for (let t = 1; t <= 100; t += 10) book.report(report("q", seq++, 0, quiet), t * S);
    expect(book.view("llm", 100 * S)).toMatchObject({ proxies: 2, evidence: "full" });
    expect(book.view("llm", 100 * S).qps).toBeCloseTo(2, 9);
    // q's last heartbeat was at 91 s: silent after 121 s, as a proxy that missed 3 reports.
    feed(book, { a: 2 }, 101, 125, 101);
    expect(book.view("llm", 120 * S)).toMatchObject({ evidence: "full" });
    expect(book.view("llm", 125 * S)).toMatchObject({ evidence: "partial" });
  });

  it("a proxy quiet for longer than the window, busy again: its seq goes on, its rate is over the whole window", () => {
    const short = { windowMs: 5 * S, warmupMs: 1 * S };
    const book = new LoadBook(short, 0);
    const quiet = { next_ms: 10 * S };
    book.report(report("q", 1, 0, quiet), 1 * S);
    book.report(report("q", 2, 0, quiet), 11 * S);
    book.prune(20 * S); // not gone: 3 heartbeats may pass between its reports
    book.report(report("q", 3, 4), 21 * S);
    const v = book.view("llm", 21 * S);
    expect(v).toMatchObject({ proxies: 1, evidence: "full" });
    expect(v.qps).toBeCloseTo(4 / 5, 9); // 4 requests over the 5 s window, not over 1 s
    book.prune(60 * S); // 3 intervals after its busy report: gone
    expect(book.reported()).toEqual([]);
  });
});
