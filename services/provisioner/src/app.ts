import { type Fence, FencedKv, type Logger, type NatsConnection, NO_FENCE } from "@switchyard/bus";
import { SILENT_REPORT_INTERVALS, secretValues, YardError } from "@switchyard/contracts";
import type { Backend } from "./backends/backend.js";
import {
  consumeFailures,
  eventPublisher,
  listenLoadReports,
  openReplicas,
  serveLogs,
  serveReplicaDown,
  watchInputs,
} from "./bus.js";
import type { ProvisionerConfig } from "./config.js";
import { Drainer } from "./drainer.js";
import { describeInventory } from "./inventory.js";
import { answerLogs } from "./logs-api.js";
import { Provisioner } from "./provisioner.js";
import { ReplicaStore } from "./replica-store.js";

export interface ProvisionerDeps {
  nc: NatsConnection;
  logger: Logger;
  config: Pick<
    ProvisionerConfig,
    | "YARD_HOST_ADDRESS"
    | "YARD_KEEP_REPLICAS_ON_EXIT"
    | "YARD_MAX_REPLICAS"
    | "YARD_LAUNCHES_PER_INTERVAL"
    | "YARD_LAUNCH_INTERVAL_MS"
    | "YARD_DRAIN_TIMEOUT_S"
    | "YARD_PROXY_REPORT_MS"
  >;
  /** Where replicas run (main.ts picks it from YARD_BACKEND); closed by stop(). */
  backend: Backend;
  /**
   * The lease's fence (default: always): yard-replicas is written, and replicas launched or
   * stopped, only while this instance holds the provisioner's lease.
   */
  fence?: Fence;
}

export interface ProvisionerApp {
  /**
   * Load its records, watch specs and endpoints, adopt or clean up what runs on the host, then
   * reconcile. Resolves once serving (the caller logs "ready").
   */
  start(): Promise<{ inventory: string; replicas: number }>;
  /**
   * Once started: stop reading the bus, stop the replicas (unless kept), close the backend.
   * Before that it does nothing. NATS is left to the caller. `lease_lost`: a standby took over
   * and adopts the replicas, so they are kept whatever YARD_KEEP_REPLICAS_ON_EXIT says.
   */
  stop(why?: "lease_lost" | "shutdown"): Promise<void>;
}

export function build(deps: ProvisionerDeps): ProvisionerApp {
  const { nc, logger, config } = deps;
  const term = termFence(deps.fence ?? NO_FENCE);
  const fence = term.fence;
  const backend = fencedBackend(deps.backend, fence);
  let stop: ((keep: boolean) => Promise<void>) | null = null;
  /** Undoes what a start made so far: a start that fails (NATS electing leaders) leaves nothing. */
  const undo: (() => unknown)[] = [];
  /** Ends a start still waiting (a history read) when the term is stopped first. */
  const abort = new AbortController();

  return {
    async start() {
      try {
        return await startTerm();
      } catch (err) {
        term.end();
        for (const u of undo.reverse()) await Promise.resolve(u()).catch(() => {});
        throw err;
      }
    },
    async stop(why) {
      abort.abort();
      // Lost: a standby (or this process's next term) owns yard-replicas now; nothing of this
      // term may write or stop a replica any more, even a write retried or an exit heard late.
      if (why === "lease_lost") term.end();
      await stop?.(why === "lease_lost" || config.YARD_KEEP_REPLICAS_ON_EXIT);
    },
  };

  async function startTerm(): Promise<{ inventory: string; replicas: number }> {
    undo.push(() => backend.close());
    const replicas = await openReplicas(nc, logger);
    const publish = await eventPublisher(nc, logger);
    // Each write carries the key's revision as last read or written: an old leader's late
    // write is refused by the server.
    const store = new ReplicaStore(new FencedKv(replicas.kv, fence, logger), logger);
    undo.push(() => store.close());
    store.load(replicas.records);
    const inventory = await backend.inventory();
    // Listening first: a drain waits on the proxies' reports, heard from the start.
    const drainer = new Drainer({
      now: Date.now,
      warmupMs: SILENT_REPORT_INTERVALS * config.YARD_PROXY_REPORT_MS,
      heardAll: () => reports.heardAll(),
    });
    const reports = listenLoadReports(
      nc,
      (r) => drainer.report(r),
      () => drainer.connectionBack(),
      logger,
    );
    undo.push(() => reports.stop());
    // The warm-up counts from when the server has the subscription (a round trip), not from
    // the call: the SUB leaves with the next write, after whatever holds the event loop, and
    // reports published before the server has it are not delivered.
    await reports.heardAll();
    drainer.connectionBack();
    const p = new Provisioner({
      backend,
      store,
      logger,
      inventory,
      hostAddress: config.YARD_HOST_ADDRESS,
      publish,
      drainer,
      drainTimeoutMs: config.YARD_DRAIN_TIMEOUT_S * 1000,
      limits: {
        maxReplicas: config.YARD_MAX_REPLICAS,
        launchesPerInterval: config.YARD_LAUNCHES_PER_INTERVAL,
        launchIntervalMs: config.YARD_LAUNCH_INTERVAL_MS,
      },
    });
    const inputs = await watchInputs(nc, p, logger);
    undo.push(() => inputs.stop());
    await inputs.ready;
    // Replicas of a revision this term has not seen (the spec changed while no term ran): its
    // launch fields are in the key's history. Without them every such replica would be
    // replaced rather than relabelled, though only the replica count changed.
    for (const service of p.servicesMissingLaunchKeys())
      for (const rec of await inputs.specHistory(service, abort.signal)) p.olderSpec(rec);
    const failures = await consumeFailures(nc, p, logger);
    undo.push(() => failures.stop());
    const currentSecrets = (svc: string) => {
      const rec = p.specs.get(svc);
      return rec ? secretValues(rec.spec) : [];
    };
    const logs = serveLogs(nc, answerLogs(store, backend, currentSecrets), logger);
    undo.push(() => logs.stop());
    const down = serveReplicaDown(
      nc,
      async (req) => ({
        service: req.service,
        replica_id: req.replica_id,
        ...p.down(req.service, req.replica_id, req.purge),
      }),
      logger,
    );
    undo.push(() => down.stop());
    if (abort.signal.aborted) throw new Error("provisioner stopped while starting");
    // Last, and synchronously up to the return: a SIGTERM during start-up then finds either
    // nothing launched (stop() does nothing yet) or the handle that stops it.
    p.recover(await backend.list());
    p.resume();
    stop = async (keep) => {
      inputs.stop();
      reports.stop();
      await failures.stop();
      await logs.stop();
      await down.stop();
      await p.shutdown(keep);
      backend.close();
      store.close();
    };
    return { inventory: describeInventory(inventory, new Set()), replicas: replicas.records.length };
  }
}

/**
 * The fence of one term: the lease's, and refused once the term ended. A process that loses its
 * lease and wins it back runs a new term with a new store and backend, under the same lease:
 * only this tells the old term's writes from the new one's.
 */
function termFence(lease: Fence): { fence: Fence; end(): void } {
  let ended = false;
  return {
    fence: {
      check() {
        if (ended)
          throw new YardError(
            "SY_ERR_NOT_LEADER",
            "this provisioner term has ended (its lease was lost); nothing was written",
          );
        lease.check();
      },
    },
    end() {
      ended = true;
    },
  };
}

/** The backend, with launches and stops refused (SY_ERR_NOT_LEADER) unless the lease is held. */
function fencedBackend(b: Backend, fence: Fence): Backend {
  return new Proxy(b, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      if (prop === "launch" || prop === "terminate")
        return (...args: unknown[]) => {
          fence.check();
          return v.apply(target, args);
        };
      return v.bind(target);
    },
  });
}
