import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { call } from "@switchyard/bus";
import { Buckets, type LogsResult, Subjects } from "@switchyard/contracts";
import { inPhase, type Proc, run, specRecord } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionerSystem, TOKEN } from "./suite.js";

/**
 * The replica prints its token whole, a one-letter secret, and the token split in two writes
 * with a pause between them (it waits on a FIFO the test writes to), so that a `yard logs`
 * reading in between gets the first half only if masking works chunk by chunk.
 */
const LEAKY_RUN = [
  'mkfifo "$YARD_REPLICA_DIR/go"',
  'echo "python server starting with --api-key $AUTH_TOKEN and hf $HF_TOKEN."',
  'printf \'split: %s\' "$(printf %s "$AUTH_TOKEN" | cut -c1-12)"',
  'read -r _ < "$YARD_REPLICA_DIR/go"',
  'printf \'%s end\\n\' "$(printf %s "$AUTH_TOKEN" | cut -c13-)"',
  "exec sleep 1000",
].join("\n");

const HALF = TOKEN.slice(0, 12);
const OTHER_HALF = TOKEN.slice(12);

describe("provisioner: yard logs masks the spec's secrets", { timeout: 120_000 }, () => {
  const w = provisionerSystem();
  let prov: Proc;
  const logFile = () => join(w.stateDir, "replicas", "leaky", "1", "replica.log");
  const logs = (offset = 0) =>
    call<LogsResult>(w.nc, Subjects.replicaLogs, { service: "leaky", replica_id: 1, offset });
  const yardLogs = () => run("cli/src/main.ts", ["logs", "leaky", "1"], { NATS_URL: w.nats.url });

  beforeAll(async () => {
    await w.start();
    prov = await w.startService("provisioner");
    await w.putSpec(
      specRecord({
        name: "leaky",
        envs: { AUTH_TOKEN: TOKEN, HF_TOKEN: "h", MODEL_NAME: "m" },
        secretNames: ["AUTH_TOKEN", "HF_TOKEN"],
        run: LEAKY_RUN,
      }),
    );
  });
  afterAll(() => w.dispose());

  it("a token split across two writes: the first half is held back, then the whole shows as ***", async () => {
    await w.waitReplicas((rs) => inPhase(rs, "STARTING").length === 1, "leaky.1 STARTING");
    // The replica has written the token's first half and now waits on its FIFO.
    await expect.poll(() => readFileSync(logFile(), "utf8"), { timeout: 30_000 }).toContain(`split: ${HALF}`);
    const first = await logs();
    expect(first.data).toBe("python server starting with --api-key *** and hf ***.\nsplit: ");
    expect(first.finished).toBe(false);
    const cli = await yardLogs();
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toBe(first.data);

    await writeFile(join(w.stateDir, "replicas", "leaky", "1", "go"), "go\n");
    await expect.poll(() => readFileSync(logFile(), "utf8"), { timeout: 30_000 }).toContain(" end\n");
    const rest = await logs(first.next_offset);
    expect(rest.data).toBe("*** end\n");
    expect(rest.next_offset).toBe(Buffer.byteLength(readFileSync(logFile(), "utf8")));
  });

  it("yard logs shows *** and ordinary text, never the token or a part of it", async () => {
    const r = await yardLogs();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("python server starting with --api-key *** and hf ***.\nsplit: *** end\n");
    for (const part of [TOKEN, HALF, OTHER_HALF]) expect(r.stdout + r.stderr).not.toContain(part);
    // The raw file does hold the token: the masking is the API's.
    expect(readFileSync(logFile(), "utf8")).toContain(TOKEN);
  });

  it("a tail read that starts inside the token shows *** for its rest", async () => {
    const size = Buffer.byteLength(readFileSync(logFile(), "utf8"));
    const tail = await call<LogsResult>(w.nc, Subjects.replicaLogs, {
      service: "leaky",
      replica_id: 1,
      tail_bytes: " end\n".length + 5,
    });
    expect(tail).toMatchObject({ data: "*** end\n", next_offset: size });
  });

  it("once the spec is deleted the log is still masked (secrets kept with the replica)", async () => {
    await w.del(Buckets.specs, "leaky");
    await w.waitReplicas((rs) => rs.length === 0, "no replica records", 60_000);
    const gone = await logs();
    expect(gone.finished).toBe(true);
    expect(gone.data).toBe("python server starting with --api-key *** and hf ***.\nsplit: *** end\n");
  });

  it("never prints the token in the provisioner's own output", () => {
    expect(prov.lines.join("\n")).not.toContain(TOKEN);
  });
});
