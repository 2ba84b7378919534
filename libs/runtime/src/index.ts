export type { Exit } from "./boot.js";
export { loadConfigOrExit, startOrExit } from "./boot.js";
export { BOOL_HELP, bool, CommonEnv, millis, parseBool, parseEnv, port } from "./config.js";
export type { GateEvents, GateLease, LeaderApp, LeaseConfig } from "./leader.js";
export { LeaseEnv, leadOrStandBy, loadLeaseConfig } from "./leader.js";
export type { Pino } from "./logger.js";
export { createLogger, LogKeys, REDACT_PATHS } from "./logger.js";
export type { ProcStat } from "./proc-info.js";
export {
  groupMembers,
  groupRunning,
  liveProcesses,
  processAlive,
  procStat,
  startTimeOf,
} from "./proc-info.js";
export type { ShutdownStep } from "./shutdown.js";
export { onShutdown } from "./shutdown.js";
