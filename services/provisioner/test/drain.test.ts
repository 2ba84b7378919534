import {
  Buckets,
  LOAD_SCHEMA_VERSION,
  type LoadReport,
  type ReplicaRecord,
  Subjects,
} from "@switchyard/contracts";
import { endpointRecord, groupAlive, type Proc, specRecord } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { provisionerSystem } from "./suite.js";

/** The proxies' report interval in this suite (the provisioner is told the same). */
const REPORT_MS = 200;

/**
 * The drain as the provisioner runs it, with the suite playing the prober (endpoints) and the
 * proxies (LoadReports on yard.load, with the in-flight counts it chooses): the replica
 * is stopped exactly when the reports allow it, a silent proxy counts as drained, and a drain
 * goes on across a provisioner restart.
 */
describe("provisioner: drains wait for the proxies' in-flight requests", { timeout: 120_000 }, () => {
  const w = provisionerSystem();
  const env = { YARD_PROXY_REPORT_MS: String(REPORT_MS), YARD_DRAIN_TIMEOUT_S: "60" };
  let prov: Proc;
  const reporters: Reporter[] = [];
  beforeAll(async () => {
    await w.start();
    prov = await w.startService("provisioner", env);
  });
  afterAll(async () => {
    for (const r of reporters) r.stop();
    await w.dispose();
  });

  /** A stand-in proxy: a report every REPORT_MS with `inFlight` on replica `id` of `service`. */
  class Reporter {
    private seq = 0;
    private readonly timer: NodeJS.Timeout;
    constructor(
      readonly service: string,
      readonly id: number,
      readonly proxy: string,
      public inFlight: number,
    ) {
      this.timer = setInterval(() => this.send(), REPORT_MS);
      reporters.push(this);
      // The first one at once: published on the suite's connection, it reaches the provisioner
      // before anything the suite writes next (a spec deletion), however slow the machine is.
      this.send();
    }
    private send(): void {
      const r: LoadReport = {
        schema: LOAD_SCHEMA_VERSION,
        proxy_id: this.proxy,
        service: this.service,
        seq: ++this.seq,
        interval_ms: REPORT_MS,
        requests: 0,
        in_flight: { [String(this.id)]: this.inFlight },
        held: 0,
        sent_at: new Date().toISOString(),
      };
      w.nc.publish(Subjects.load, JSON.stringify({ schema: LOAD_SCHEMA_VERSION, reports: [r] }));
    }
    stop(): void {
      clearInterval(this.timer);
    }
  }

  /** A READY replica of `service` (its endpoint put as the prober would). */
  async function readyReplica(service: string): Promise<ReplicaRecord> {
    await w.putSpec(specRecord({ name: service, run: "exec sleep 1000" }));
    const [r] = await w.waitReplicas(
      (rs) => rs.some((r) => r.service === service && r.phase === "STARTING"),
      `${service} STARTING`,
    );
    await w.putEndpoint(endpointRecord({ service, replica_id: r.id, url: r.url! }));
    await w.waitReplicas(
      (rs) => rs.some((x) => x.service === service && x.id === r.id && x.phase === "READY"),
      `${service} READY`,
    );
    return r;
  }

  const mine = (rs: ReplicaRecord[], service: string) => rs.filter((r) => r.service === service);

  /**
   * A READY replica of `service` that a stand-in proxy has `inFlight` requests on, drained (its
   * spec deleted): resolves once its record shows the drain with that count.
   */
  async function draining(service: string, inFlight: number) {
    const r = await readyReplica(service);
    const proxy = new Reporter(service, r.id, `test-proxy:${service}`, inFlight);
    await w.del(Buckets.specs, service);
    await w.waitReplicas(
      (rs) => mine(rs, service)[0]?.drain?.in_flight === inFlight,
      `${service} draining with ${inFlight} in flight`,
    );
    return { r, proxy };
  }

  it("stays up while a proxy reports requests in flight on it; stopped once it reports none", async () => {
    const { r, proxy } = await draining("busy", 2);
    expect(mine((await w.until(() => true, "now")).replicas, "busy")[0]).toMatchObject({
      phase: "SHUTTING_DOWN",
      reason: "SpecDeleted",
    });
    // Ten report intervals later it still runs: the proxy says its requests are not done.
    await new Promise((res) => setTimeout(res, 10 * REPORT_MS));
    expect(groupAlive(Number(r.handle))).toBe(true);
    proxy.inFlight = 0;
    const line = await prov.waitForLine(/"service":"busy",.*"msg":"replica drained: no request in flight/);
    expect(JSON.parse(line).waited_ms).toBeGreaterThanOrEqual(10 * REPORT_MS);
    await w.waitReplicas((rs) => mine(rs, "busy").length === 0, "busy's record removed");
    expect(groupAlive(Number(r.handle))).toBe(false);
    proxy.stop();
  });

  it("a proxy that stops reporting counts as drained after three of its intervals", async () => {
    const { r, proxy } = await draining("quiet", 1);
    const stoppedAt = Date.now();
    proxy.stop();
    await w.waitReplicas((rs) => mine(rs, "quiet").length === 0, "quiet's record removed");
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(2 * REPORT_MS);
    expect(groupAlive(Number(r.handle))).toBe(false);
  });

  it("a drain goes on across a provisioner restart (kill -9): the replica is not stopped early", async () => {
    const { r, proxy } = await draining("kept", 1);
    const old = prov;
    // On a failure, what both provisioners said (the restarted one's timing is the usual question).
    onTestFailed(() =>
      console.log([...old.lines.slice(-20), "---- restarted ----", ...prov.lines].join("\n")),
    );
    process.kill(-prov.child.pid!, "SIGKILL");
    await prov.exited;
    prov = await w.startService("provisioner", env);
    await prov.waitForLine(/"msg":"replica drain resumed"/);
    await new Promise((res) => setTimeout(res, 10 * REPORT_MS));
    expect(groupAlive(Number(r.handle))).toBe(true);
    expect(mine((await w.until(() => true, "now")).replicas, "kept")[0]).toMatchObject({
      phase: "SHUTTING_DOWN",
    });
    proxy.inFlight = 0;
    await w.waitReplicas((rs) => mine(rs, "kept").length === 0, "kept's record removed");
    expect(groupAlive(Number(r.handle))).toBe(false);
    proxy.stop();
  });
});
