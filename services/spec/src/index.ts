export type { SpecApp, SpecDeps } from "./app.js";
export { build } from "./app.js";
export { loadConfig, SpecEnv } from "./config.js";
export { canonicalJson, decideApply, digestOf, maskRecord } from "./records.js";
