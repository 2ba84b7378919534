export { alive, descendants } from "./child.js";
export { NATS_CONF_PATH } from "./gen-nats-conf.js";
export { renderNatsConf } from "./nats-conf.js";
export {
  BUS_USERS,
  devPassword,
  passwordVar,
  permissionsOf,
  type UserPermissions,
} from "./nats-permissions.js";
export { REPLICA_GROUPS_DIR, stopReplicaGroups } from "./replica-groups.js";
