export type { ProberApp, ProberDeps } from "./app.js";
export { build } from "./app.js";
export type { ProberConfig } from "./config.js";
export { loadConfig, ProberEnv } from "./config.js";
export type { ProbeAction, ProbeOutcome, ProbeState, VerdictConfig } from "./probe-verdict.js";
export { INITIAL_STATE, passed, verdict } from "./probe-verdict.js";
