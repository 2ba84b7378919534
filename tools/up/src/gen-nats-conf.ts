import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { composeClusterConfs } from "./nats-cluster-conf.js";
import { renderNatsConf } from "./nats-conf.js";
import { renderServerConf } from "./nats-server-conf.js";

/** deploy/nats/yard.conf: the users and permissions, JetStream unencrypted. */
export const NATS_CONF_PATH = fileURLToPath(new URL("../../../deploy/nats/yard.conf", import.meta.url));
/** deploy/nats/server.conf: what `pnpm start` and compose run (yard.conf, JetStream encrypted). */
export const NATS_SERVER_CONF_PATH = fileURLToPath(
  new URL("../../../deploy/nats/server.conf", import.meta.url),
);

/** deploy/nats/cluster/: each node's config for docker-compose.cluster.yml (nats-1.conf, …). */
export const NATS_CLUSTER_CONF_DIR = fileURLToPath(new URL("../../../deploy/nats/cluster", import.meta.url));

/** Writes them all from libs/contracts/src/access.ts. */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(NATS_CONF_PATH, renderNatsConf());
  writeFileSync(NATS_SERVER_CONF_PATH, renderServerConf());
  rmSync(NATS_CLUSTER_CONF_DIR, { recursive: true, force: true });
  mkdirSync(NATS_CLUSTER_CONF_DIR, { recursive: true });
  for (const c of composeClusterConfs()) writeFileSync(join(NATS_CLUSTER_CONF_DIR, c.file), c.text);
  console.log(`wrote ${NATS_CONF_PATH}, ${NATS_SERVER_CONF_PATH} and ${NATS_CLUSTER_CONF_DIR}/`);
}
