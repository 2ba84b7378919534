import type { ScaleReason } from "@switchyard/contracts";
import { Counter, Gauge, Registry } from "prom-client";
import type { ReportResult } from "./load-book.js";
import type { ServiceView } from "./scaler.js";

const EVIDENCE = { none: 0, partial: 1, full: 2 } as const;

/** The autoscaler's Prometheus metrics; per-service gauges are read from the scaler at scrape time. */
export class AutoscalerMetrics {
  readonly registry = new Registry();
  private readonly decisions: Counter<string>;
  private readonly reports: Counter<string>;

  constructor(views: () => ServiceView[]) {
    const registers = [this.registry];
    const gauge = (name: string, help: string, value: (v: ServiceView) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ["service"],
        registers,
        collect() {
          this.reset();
          for (const v of views()) {
            const n = value(v);
            if (n !== null) this.set({ service: v.service }, n);
          }
        },
      });
    gauge(
      "yard_autoscaler_qps",
      "Requests per second over the window, summed over the proxies' reports.",
      (v) => v.qps,
    );
    gauge(
      "yard_autoscaler_in_flight",
      "Requests in flight now, over the proxies' last reports.",
      (v) => v.inFlight,
    );
    gauge("yard_autoscaler_target_replicas", "The target written to yard-scale.", (v) => v.target);
    gauge(
      "yard_autoscaler_wanted_replicas",
      "What the load asks for now (differs while a delay runs).",
      (v) => v.wanted,
    );
    gauge(
      "yard_autoscaler_evidence",
      "How complete the window of reports is: 0 none (paused), 1 partial (no scale-down), 2 full.",
      (v) => EVIDENCE[v.evidence],
    );
    const counter = (name: string, help: string, labelNames: string[]) =>
      new Counter({ name, help, labelNames, registers });
    this.decisions = counter("yard_autoscaler_decisions_total", "Changes of a service's target, by reason.", [
      "service",
      "reason",
    ]);
    this.reports = counter(
      "yard_autoscaler_reports_total",
      "Load reports received, by result (ok, duplicate, too_many_proxies, too_many_services).",
      ["result"],
    );
  }

  decided(service: string, reason: ScaleReason): void {
    this.decisions.inc({ service, reason });
  }

  report(result: ReportResult): void {
    this.reports.inc({ result });
  }
}
