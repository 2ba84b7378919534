export type { TestNats } from "./nats-server.js";
export { containerRuntimeAvailable, natsServerBinary, startNats } from "./nats-server.js";
export type { Proc } from "./proc.js";
export { alive, REPO_ROOT, run, startProc, startTs } from "./proc.js";
export type { SpecOptions } from "./records.js";
export {
  endpointRecord,
  RECORD_TIME,
  replicaRecord,
  resolvedSpec,
  routeRecord,
  scaleRecord,
  specRecord,
} from "./records.js";
export { waitForKey } from "./wait.js";
