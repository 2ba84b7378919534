import {
  connectBus,
  createBucket,
  ensureEventsStream,
  jetstream,
  type Logger,
  publishEvent,
  watchBucket,
} from "@switchyard/bus";
import { Buckets, ReplicaRecord, secretValues } from "@switchyard/contracts";
import { consumeFailures, watchInputs } from "./bus-io.js";
import type { ProvisionerConfig } from "./config.js";
import { detectInventory } from "./gpu-inventory.js";
import { describeInventory } from "./inventory.js";
import { LocalBackend } from "./local-backend.js";
import { serveLogs } from "./logs-api.js";
import { Provisioner } from "./provisioner.js";
import { ReplicaStore } from "./replica-store.js";

/**
 * Start the provisioner: load its records, watch specs and endpoints, adopt or clean up what
 * runs on the host, then reconcile. Resolves once serving (the caller logs "ready").
 */
export async function startProvisioner(cfg: Readonly<ProvisionerConfig>, logger: Logger) {
  const nc = await connectBus({
    url: cfg.NATS_URL,
    name: "yard-provisioner",
    user: cfg.NATS_USER,
    pass: cfg.NATS_PASS,
    logger,
    waitOnFirstConnect: true,
  });
  const kv = await createBucket(nc, Buckets.replicas);
  await ensureEventsStream(nc);
  const js = jetstream(nc);
  const store = new ReplicaStore(kv, logger);
  const snapshot: ReplicaRecord[] = [];
  const w = watchBucket(kv, ReplicaRecord, (c) => c.op === "put" && snapshot.push(c.value), logger);
  await w.ready;
  w.stop();
  store.load(snapshot);

  const backend = new LocalBackend({
    stateDir: cfg.YARD_STATE_DIR,
    terminateGraceMs: cfg.YARD_TERMINATE_GRACE_MS,
    extraPath: cfg.YARD_REPLICA_PATH.split(":").filter(Boolean),
    logger,
  });
  const inventory = detectInventory(cfg.YARD_GPUS, logger);
  const p = new Provisioner({
    backend,
    store,
    logger,
    inventory,
    hostAddress: cfg.YARD_HOST_ADDRESS,
    publish: (ev) => {
      publishEvent(js, ev).catch((err) =>
        logger.warn({ type: ev.type, err: String(err) }, "event not published"),
      );
    },
  });
  const inputs = await watchInputs(nc, p, logger);
  await inputs.ready;
  const failures = await consumeFailures(nc, p, logger);
  const logs = serveLogs(
    nc,
    store,
    backend,
    (svc) => {
      const rec = p.specs.get(svc);
      return rec ? secretValues(rec.spec) : [];
    },
    logger,
  );
  // Last, and synchronously up to the return: a SIGTERM during start-up then finds either
  // nothing launched or the handle that stops it.
  p.recover(await backend.list());
  p.resume();
  return {
    inventory: describeInventory(inventory, new Set()),
    replicas: snapshot.length,
    async stop(): Promise<void> {
      inputs.stop();
      await failures.stop();
      await logs.stop();
      await p.shutdown(cfg.YARD_KEEP_REPLICAS_ON_EXIT);
      backend.close();
      store.close();
      await nc.drain();
    },
  };
}
