export { build, type ProvisionerApp, type ProvisionerDeps } from "./app.js";
export type { Backend, BackendEvent, FoundReplica, LaunchRequest } from "./backends/backend.js";
export { BACKEND_NAMES, createBackend } from "./backends/index.js";
export { type ProvisionerConfig, ProvisionerEnv } from "./config.js";
export { allocate, describeInventory, parseGpuList, parseNvidiaSmi } from "./inventory.js";
export { type Action, reconcile, type World } from "./reconcile.js";
