import { Buckets } from "@switchyard/contracts";
import { type Proc, startTs, TestSystem } from "@switchyard/testkit";
import { startSwitchyard } from "../proxy/targets.js";
import { Observer } from "./observer.js";
import type { Profile } from "./options.js";

/** The token every bench replica requires (`--api-key`), as a deployment's AUTH_TOKEN. */
export const TOKEN = "bench-autoscale-token";

/** A service's `replica_policy`, in SkyServe's words. */
export interface Policy {
  min_replicas: number;
  max_replicas: number;
  target_qps_per_replica: number;
  upscale_delay_seconds: number;
  downscale_delay_seconds: number;
}

/**
 * A SkyServe service YAML: fake engines with the profile's cold start and capacity. Each serves
 * the model `bench-<replica id>`, so a response says which replica answered it.
 */
export function serviceYaml(name: string, p: Profile, policy: Policy): string {
  const engine = [
    'exec fake-openai-engine --host 127.0.0.1 --port "$YARD_REPLICA_PORT" --api-key "$AUTH_TOKEN"',
    `--model "bench-$YARD_REPLICA_ID" --startup-delay-ms ${p.startupDelayMs} --max-num-seqs ${p.maxNumSeqs}`,
    `--token-delay-ms ${p.tokenDelayMs} --tokens ${p.tokens}`,
  ].join(" ");
  return `name: ${name}
envs:
  AUTH_TOKEN: ${TOKEN}
resources:
  ports: 8000
run: ${engine}
service:
  readiness_probe:
    path: /v1/models
    headers:
      Authorization: Bearer $AUTH_TOKEN
  replica_policy:
${Object.entries(policy)
  .map(([k, v]) => `    ${k}: ${v}\n`)
  .join("")}`;
}

export interface ProxyHandle {
  url: string;
  admin: string;
  proc: Proc;
}

/**
 * Switchyard as real processes on loopback: nats-server, the spec service, the provisioner
 * (local backend: replicas are fake engines in their own process groups), the prober, the
 * autoscaler and N proxies, each with its default intervals.
 */
export class BenchSystem {
  readonly sys: TestSystem;
  proxies: ProxyHandle[] = [];
  autoscaler!: Proc;
  observer!: Observer;

  constructor(private readonly profile: Profile) {
    const info = { LOG_LEVEL: "info" };
    this.sys = new TestSystem({
      // Port 8000 held: every replica gets a free port of its own ($YARD_REPLICA_PORT).
      holdPorts: [8000],
      env: {
        spec: info,
        // A replica scaled down drains for as long as a proxy reports a request on it.
        provisioner: { ...info, YARD_TERMINATE_GRACE_MS: "3000", YARD_DRAIN_TIMEOUT_S: "10" },
        prober: {
          ...info,
          ...(profile.probeIntervalMs ? { YARD_PROBE_INTERVAL_MS: String(profile.probeIntervalMs) } : {}),
        },
      },
    });
  }

  async start(): Promise<void> {
    await this.sys.start();
    const url = this.sys.nats.url;
    const autoscaler = (async () => {
      const p = startTs("services/autoscaler/src/main.ts", [], {
        NATS_URL: url,
        YARD_AUTOSCALER_QPS_WINDOW_S: String(this.profile.windowS),
        YARD_AUTOSCALER_METRICS_PORT: "0",
      });
      this.sys.procs.push(p);
      await p.waitForLine(/"msg":"ready"/, 90_000);
      return p;
    })();
    const proxies = Array.from({ length: this.profile.proxies }, async () => {
      const t = await startSwitchyard(url);
      this.sys.procs.push(t.proc);
      return { url: t.url, admin: t.admin, proc: t.proc };
    });
    await Promise.all([
      this.sys.startService("spec"),
      this.sys.startService("provisioner"),
      this.sys.startService("prober"),
    ]);
    [this.autoscaler, ...this.proxies] = await Promise.all([autoscaler, ...proxies]);
    this.observer = new Observer(
      {
        scale: await this.sys.kv(Buckets.scale),
        replicas: await this.sys.kv(Buckets.replicas),
        endpoints: await this.sys.kv(Buckets.endpoints),
      },
      this.proxies.map((p) => p.proc),
    );
    await this.observer.ready;
  }

  /** `yard up` a service, then wait until every proxy routes it and the autoscaler decided for it. */
  async apply(name: string, yaml: string): Promise<void> {
    const r = await this.sys.yard(["up", this.sys.writeYaml(name, yaml), "--name", name]);
    if (r.code !== 0) throw new Error(`yard up ${name} failed (${r.code}): ${r.all}`);
    const o = this.observer;
    await o.until(
      () => o.proxyServices.every((s) => s.has(name)) && o.latestScale(name) !== undefined,
      `every proxy routing ${name} and a yard-scale record for it`,
      60_000,
    );
  }

  async down(name: string): Promise<void> {
    const r = await this.sys.yard(["down", name]);
    if (r.code !== 0) throw new Error(`yard down ${name} failed (${r.code}): ${r.all}`);
  }

  async dispose(): Promise<void> {
    this.observer?.stop();
    await this.sys.dispose();
  }
}
