export { build, type ProvisionerApp, type ProvisionerDeps } from "./app.js";
export type { Backend, BackendEvent, FoundReplica, LaunchRequest } from "./backend.js";
export { type ProvisionerConfig, ProvisionerEnv } from "./config.js";
export { allocate, describeInventory, parseGpuList, parseNvidiaSmi } from "./inventory.js";
export { LocalBackend } from "./local-backend.js";
export { type Action, reconcile, type World } from "./reconcile.js";
