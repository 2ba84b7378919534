import { ensureBuilt } from "./build.js";
import { down } from "./down.js";
import { cacheLayout } from "./layout.js";
import { parseOptions, USAGE } from "./options.js";
import { clusterStatus } from "./status.js";
import { up } from "./up.js";

/** `pnpm cluster up|down|status|build`: the local test cluster. See docs/cluster.md. */
const parsed = parseOptions(process.argv.slice(2), process.env);
if (!parsed.ok) {
  console.error(parsed.error);
  process.exit(2);
}
const o = parsed.options;
if (o.help) {
  console.log(USAGE);
  process.exit(0);
}
const say = (line: string) => console.log(`cluster: ${line}`);

try {
  switch (o.command) {
    case "build":
      await ensureBuilt(cacheLayout(o.cacheDir), say);
      say(`binaries in ${cacheLayout(o.cacheDir).bin}`);
      break;
    case "up":
      await up(o, say);
      break;
    case "down":
      await down(o, say);
      break;
    case "status": {
      const st = await clusterStatus(o);
      if (!o.quiet) {
        for (const c of st.components)
          console.log(`${c.name.padEnd(24)} ${c.running ? `running (pid ${c.pid})` : "stopped"}`);
        console.log(`${"node".padEnd(24)} ${st.node}`);
        console.log(`${"kubeconfig".padEnd(24)} ${st.up ? st.kubeconfig : "-"}`);
        console.log(st.up ? "up" : `not up: ${st.why}`);
      }
      process.exit(st.up ? 0 : 3);
    }
  }
} catch (err) {
  console.error(`cluster: ${(err as Error).message}`);
  process.exit(1);
}
