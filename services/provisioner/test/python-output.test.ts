import { spawnSync } from "node:child_process";
import { call } from "@switchyard/bus";
import { type LogsResult, Subjects } from "@switchyard/contracts";
import { inPhase, specRecord } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionerSystem } from "./suite.js";

/**
 * A Python replica's print() reaches `yard logs` while it runs (issue 10, item 5). Its stdout is
 * the replica's log file, which Python block-buffers (8 KB) unless PYTHONUNBUFFERED is set: the
 * replica prints two short lines and then sleeps, so without the provisioner's default they
 * would show only when it exits (never, here). It also reads SkyServe's replica id variable.
 */
const PY_RUN = [
  "exec python3 -c '",
  "import os, time",
  'print("replica", os.environ["SKYPILOT_SERVE_REPLICA_ID"], "of", os.environ["YARD_SERVICE"])',
  'print("client disconnected")',
  "time.sleep(1000)",
  "'",
].join("\n");

const noPython = spawnSync("python3", ["--version"]).status !== 0;

describe.skipIf(noPython)(
  "provisioner: a Python replica's output is unbuffered",
  { timeout: 120_000 },
  () => {
    const w = provisionerSystem();
    const logs = () =>
      call<LogsResult>(w.nc, Subjects.replicaLogs, { service: "py", replica_id: 1, offset: 0 });

    beforeAll(async () => {
      await w.start();
      await w.startService("provisioner");
      await w.putSpec(specRecord({ name: "py", run: PY_RUN }));
    });
    afterAll(() => w.dispose());

    it("print() lines show in yard logs while the replica is still running", async () => {
      await w.waitReplicas((rs) => inPhase(rs, "STARTING").length === 1, "py.1 STARTING");
      await expect
        .poll(async () => (await logs()).data, { timeout: 20_000, interval: 100 })
        .toBe("replica 1 of py\nclient disconnected\n");
      const r = await logs();
      expect(r.finished).toBe(false);
      const cli = await w.yard(["logs", "py", "1"]);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toBe("replica 1 of py\nclient disconnected\n");
    });
  },
);
