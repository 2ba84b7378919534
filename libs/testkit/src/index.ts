export type { TestCert } from "./certs.js";
export { TestCa } from "./certs.js";
export { type ClusterNode, type ClusterOptions, TestCluster } from "./nats-cluster.js";
export type { TestNats } from "./nats-server.js";
export {
  containerRuntimeAvailable,
  dockerSkipReason,
  NATS_TEST_IMAGE,
  natsServerBinary,
  startNats,
} from "./nats-server.js";
export { freePort, freeQuietPort, holdPort, quietPort } from "./ports.js";
export type { Proc } from "./proc.js";
export { alive, groupAlive, groupMembers, groupsUnder, REPO_ROOT, run, startProc, startTs } from "./proc.js";
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
export type { Snapshot, SystemOptions, YardService } from "./system.js";
export { inPhase, ofService, TestSystem } from "./system.js";
export type { Views, Watched } from "./wait.js";
export { waitForBuckets, waitForKey } from "./wait.js";
