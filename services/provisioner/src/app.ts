import type { Logger, NatsConnection } from "@switchyard/bus";
import { secretValues } from "@switchyard/contracts";
import type { Backend } from "./backend.js";
import { consumeFailures, eventPublisher, openReplicas, serveLogs, watchInputs } from "./bus.js";
import type { ProvisionerConfig } from "./config.js";
import { detectInventory } from "./gpu-inventory.js";
import { describeInventory } from "./inventory.js";
import { answerLogs } from "./logs-api.js";
import { Provisioner } from "./provisioner.js";
import { ReplicaStore } from "./replica-store.js";

export interface ProvisionerDeps {
  nc: NatsConnection;
  logger: Logger;
  config: Pick<
    ProvisionerConfig,
    | "YARD_GPUS"
    | "YARD_HOST_ADDRESS"
    | "YARD_KEEP_REPLICAS_ON_EXIT"
    | "YARD_MAX_REPLICAS"
    | "YARD_LAUNCHES_PER_INTERVAL"
    | "YARD_LAUNCH_INTERVAL_MS"
  >;
  /** Where replicas run (main.ts picks it from YARD_BACKEND); closed by stop(). */
  backend: Backend;
}

export interface ProvisionerApp {
  /**
   * Load its records, watch specs and endpoints, adopt or clean up what runs on the host, then
   * reconcile. Resolves once serving (the caller logs "ready").
   */
  start(): Promise<{ inventory: string; replicas: number }>;
  /**
   * Once started: stop reading the bus, stop the replicas (unless kept), close the backend.
   * Before that it does nothing. NATS is left to the caller.
   */
  stop(): Promise<void>;
}

export function build(deps: ProvisionerDeps): ProvisionerApp {
  const { nc, logger, backend, config } = deps;
  let stop: (() => Promise<void>) | null = null;

  return {
    async start() {
      const replicas = await openReplicas(nc, logger);
      const publish = await eventPublisher(nc, logger);
      const store = new ReplicaStore(replicas.kv, logger);
      store.load(replicas.records);
      const inventory = detectInventory(config.YARD_GPUS, logger);
      const p = new Provisioner({
        backend,
        store,
        logger,
        inventory,
        hostAddress: config.YARD_HOST_ADDRESS,
        publish,
        limits: {
          maxReplicas: config.YARD_MAX_REPLICAS,
          launchesPerInterval: config.YARD_LAUNCHES_PER_INTERVAL,
          launchIntervalMs: config.YARD_LAUNCH_INTERVAL_MS,
        },
      });
      const inputs = await watchInputs(nc, p, logger);
      await inputs.ready;
      const failures = await consumeFailures(nc, p, logger);
      const currentSecrets = (svc: string) => {
        const rec = p.specs.get(svc);
        return rec ? secretValues(rec.spec) : [];
      };
      const logs = serveLogs(nc, answerLogs(store, backend, currentSecrets), logger);
      // Last, and synchronously up to the return: a SIGTERM during start-up then finds either
      // nothing launched (stop() does nothing yet) or the handle that stops it.
      p.recover(await backend.list());
      p.resume();
      stop = async () => {
        inputs.stop();
        await failures.stop();
        await logs.stop();
        await p.shutdown(config.YARD_KEEP_REPLICAS_ON_EXIT);
        backend.close();
        store.close();
      };
      return { inventory: describeInventory(inventory, new Set()), replicas: replicas.records.length };
    },
    async stop() {
      await stop?.();
    },
  };
}
