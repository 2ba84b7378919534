export { alive, descendants } from "./child.js";
export { NATS_CLUSTER_CONF_DIR, NATS_CONF_PATH, NATS_SERVER_CONF_PATH } from "./gen-nats-conf.js";
export {
  type ClusterNode,
  clusterNodeArgs,
  clusterNodeConf,
  composeClusterConfs,
  ROUTE_PASS_VAR,
  renderClusterNodeConf,
} from "./nats-cluster-conf.js";
export { renderNatsConf } from "./nats-conf.js";
export {
  BUS_USERS,
  devPassword,
  passwordVar,
  permissionsOf,
  type UserPermissions,
} from "./nats-permissions.js";
export { JS_KEY_VAR, renderServerConf } from "./nats-server-conf.js";
export { REPLICA_GROUPS_DIR, stopReplicaGroups } from "./replica-groups.js";
export { JS_KEY_FILE, SPEC_TOKEN_FILE } from "./state-secrets.js";
