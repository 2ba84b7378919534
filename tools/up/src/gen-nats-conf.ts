import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderClusterConf } from "./nats-cluster-conf.js";
import { renderNatsConf } from "./nats-conf.js";
import { renderServerConf } from "./nats-server-conf.js";

/** deploy/nats/yard.conf: the users and permissions, JetStream unencrypted. */
export const NATS_CONF_PATH = fileURLToPath(new URL("../../../deploy/nats/yard.conf", import.meta.url));
/** deploy/nats/server.conf: what `pnpm start` and compose run (yard.conf, JetStream encrypted). */
export const NATS_SERVER_CONF_PATH = fileURLToPath(
  new URL("../../../deploy/nats/server.conf", import.meta.url),
);

/** deploy/nats/cluster.conf: server.conf plus a cluster block (one file for every node). */
export const NATS_CLUSTER_CONF_PATH = fileURLToPath(
  new URL("../../../deploy/nats/cluster.conf", import.meta.url),
);

/** Writes all three from libs/contracts/src/access.ts. */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(NATS_CONF_PATH, renderNatsConf());
  writeFileSync(NATS_SERVER_CONF_PATH, renderServerConf());
  writeFileSync(NATS_CLUSTER_CONF_PATH, renderClusterConf());
  console.log(`wrote ${NATS_CONF_PATH}, ${NATS_SERVER_CONF_PATH} and ${NATS_CLUSTER_CONF_PATH}`);
}
