import { Counter, Gauge, Histogram, Registry } from "prom-client";

type CounterChild = ReturnType<Counter<string>["labels"]>;
type HistogramChild = ReturnType<Histogram<string>["labels"]>;

/** Label children cached per service, so the hot path does no label hashing. */
interface PerService {
  latency: HistogramChild;
  byStatus: Map<number, CounterChild>;
  retries: CounterChild;
  ejections: CounterChild;
}

/**
 * The proxy's Prometheus metrics. In-flight and route-table version are read from the table
 * at scrape time (no per-request gauge updates).
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<string>;
  private readonly latency: Histogram<string>;
  private readonly retries: Counter<string>;
  private readonly ejections: Counter<string>;
  private readonly perService = new Map<string, PerService>();

  constructor(view: { inFlight(): Map<string, number>; held(): Map<string, number>; version(): number }) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: "yard_proxy_requests_total",
      help: "Requests answered, by service and HTTP status (499 = client went away; a stream cut by the replica counts as 502).",
      labelNames: ["service", "status"],
      registers,
    });
    this.latency = new Histogram({
      name: "yard_proxy_request_duration_seconds",
      help: "Time from request to the end of the response, by service.",
      labelNames: ["service"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.retries = new Counter({
      name: "yard_proxy_retries_total",
      help: "Attempts repeated on another replica after a failure that allows a retry.",
      labelNames: ["service"],
      registers,
    });
    this.ejections = new Counter({
      name: "yard_proxy_ejections_total",
      help: "Replicas taken out of this proxy's rotation (outlier detection).",
      labelNames: ["service"],
      registers,
    });
    new Gauge({
      name: "yard_proxy_in_flight",
      help: "Requests being forwarded now, by service.",
      labelNames: ["service"],
      registers,
      collect() {
        this.reset();
        for (const [s, n] of view.inFlight()) this.set({ service: s }, n);
      },
    });
    new Gauge({
      name: "yard_proxy_requests_held",
      help: "Requests waiting for a service's first replica (scale-from-zero), by service.",
      labelNames: ["service"],
      registers,
      collect() {
        this.reset();
        for (const [s, n] of view.held()) this.set({ service: s }, n);
      },
    });
    new Gauge({
      name: "yard_proxy_route_table_version",
      help: "The last yard-endpoints revision this proxy applied.",
      registers,
      aggregator: "min", // across cluster workers: every worker has applied at least this
      collect() {
        this.set(view.version());
      },
    });
  }

  private of(service: string): PerService {
    let p = this.perService.get(service);
    if (!p) {
      p = {
        latency: this.latency.labels(service),
        byStatus: new Map(),
        retries: this.retries.labels(service),
        ejections: this.ejections.labels(service),
      };
      this.perService.set(service, p);
    }
    return p;
  }

  request(service: string, status: number, seconds: number): void {
    const p = this.of(service);
    let c = p.byStatus.get(status);
    if (!c) {
      c = this.requests.labels(service, String(status));
      p.byStatus.set(status, c);
    }
    c.inc();
    p.latency.observe(seconds);
  }

  retry(service: string): void {
    this.of(service).retries.inc();
  }

  ejection(service: string): void {
    this.of(service).ejections.inc();
  }
}
