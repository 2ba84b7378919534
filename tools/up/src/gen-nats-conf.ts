import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderNatsConf } from "./nats-conf.js";

/** Writes deploy/nats/yard.conf from libs/contracts/src/access.ts. */
export const NATS_CONF_PATH = fileURLToPath(new URL("../../../deploy/nats/yard.conf", import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(NATS_CONF_PATH, renderNatsConf());
  console.log(`wrote ${NATS_CONF_PATH}`);
}
