export type { AutoscalerApp, AutoscalerDeps } from "./app.js";
export { build } from "./app.js";
export type { AutoscalerConfig } from "./config.js";
export { AutoscalerEnv, loadConfig } from "./config.js";
export type { Decision, DecisionInput, Policy, ScaleState } from "./decide.js";
export { decide } from "./decide.js";
