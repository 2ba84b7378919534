export type { EngineHooks } from "./app.js";
export { buildEngine } from "./app.js";
export type { EngineOptions } from "./args.js";
export { parseEngineArgs, USAGE } from "./args.js";
export { isAuthorized, UNAUTHORIZED_BODY } from "./auth.js";
