export type { Backend, BackendEvent, FoundReplica, LaunchRequest } from "./backend.js";
export { type ProvisionerConfig, ProvisionerEnv } from "./config.js";
export { replicaRecord, specRecord } from "./fixtures.js";
export { allocate, describeInventory, parseGpuList, parseNvidiaSmi } from "./inventory.js";
export { LocalBackend } from "./local-backend.js";
export { type Action, reconcile, type World } from "./reconcile.js";
export { startProvisioner } from "./service.js";
