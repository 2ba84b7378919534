import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectBus, createBucket, getJson, type KV, silentLogger } from "@switchyard/bus";
import { Buckets, SpecRecord } from "@switchyard/contracts";
import { type Proc, run, startNats, startTs, type TestNats } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceYaml } from "./spec-cli-helpers.js";

/**
 * The spec HTTP API is the door to running code on the replica hosts (a spec's `run:`). These
 * are the attacks a local process or a web page (DNS rebinding) could make on it.
 */
const API_TOKEN = "api-PLANTED-fedcba9876543210";
const SERVICE_TOKEN = "svc-PLANTED-77aa";

/** A raw HTTP request to 127.0.0.1 with any Host header (fetch will not send a foreign one). */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: { code?: string; message?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      let text = "";
      res.on("data", (d) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("spec HTTP API: authentication and Host/Origin checks (real spec service)", () => {
  let nats: TestNats;
  let spec: Proc;
  let port: number;
  let specs: KV;
  let close: () => Promise<void>;
  const apply = JSON.stringify({ yaml: serviceYaml("victim"), env: { AUTH_TOKEN: SERVICE_TOKEN } });
  const json = { "content-type": "application/json" };
  const host = () => `127.0.0.1:${port}`;
  const auth = { authorization: `Bearer ${API_TOKEN}` };

  beforeAll(async () => {
    nats = await startNats();
    const dir = mkdtempSync(join(tmpdir(), "yard-spec-auth-"));
    const file = join(dir, "spec-api.token");
    writeFileSync(file, `${API_TOKEN}\n`, { mode: 0o600 });
    spec = startTs("services/spec/src/main.ts", [], {
      NATS_URL: nats.url,
      YARD_SPEC_HTTP_PORT: "0",
      YARD_SPEC_API_TOKEN_FILE: file,
      LOG_LEVEL: "debug",
    });
    const listening = await spec.waitForLine(/"msg":"listening"/, 60_000);
    port = Number(new URL(JSON.parse(listening).address).port);
    await spec.waitForLine(/"msg":"ready"/);
    const nc = await connectBus({ url: nats.url, name: "spec-auth-test", logger: silentLogger });
    specs = await createBucket(nc, Buckets.specs);
    close = () => nc.close();
  });
  afterAll(async () => {
    await spec?.stop();
    await close?.();
    await nats?.dispose();
  });

  it("an unauthenticated POST gets 401 and publishes nothing", async () => {
    const r = await send(port, "POST", "/v1/services", { host: host(), ...json }, apply);
    expect([r.status, r.body.code]).toEqual([401, "SY_ERR_UNAUTHORIZED"]);
    const wrong = await send(
      port,
      "POST",
      "/v1/services",
      { host: host(), ...json, authorization: "Bearer api-PLANTED-fedcba987654321X" },
      apply,
    );
    expect([wrong.status, wrong.body.code]).toEqual([401, "SY_ERR_UNAUTHORIZED"]);
    expect(await getJson(specs, "victim", SpecRecord)).toBeNull();
  });

  it("a DNS-rebound page (foreign Host) or a cross-origin page gets 403 even with the token", async () => {
    const rebound = await send(
      port,
      "POST",
      "/v1/services",
      { host: `attacker.example:${port}`, ...json, ...auth },
      apply,
    );
    expect([rebound.status, rebound.body.code]).toEqual([403, "SY_ERR_FORBIDDEN"]);
    const origin = await send(
      port,
      "POST",
      "/v1/services",
      { host: host(), origin: "http://attacker.example", ...json, ...auth },
      apply,
    );
    expect([origin.status, origin.body.code]).toEqual([403, "SY_ERR_FORBIDDEN"]);
    expect(await getJson(specs, "victim", SpecRecord)).toBeNull();
  });

  it("with the token and a loopback Host it applies; an unauthenticated DELETE then removes nothing", async () => {
    const ok = await send(
      port,
      "POST",
      "/v1/services",
      { host: `localhost:${port}`, ...json, ...auth },
      apply,
    );
    expect(ok.status).toBe(200);
    expect((await getJson(specs, "victim", SpecRecord))?.value.revision).toBe(1);
    const del = await send(port, "DELETE", "/v1/services/victim", { host: host() });
    expect([del.status, del.body.code]).toEqual([401, "SY_ERR_UNAUTHORIZED"]);
    const list = await send(port, "GET", "/v1/services", { host: host() });
    expect(list.status).toBe(401);
    expect((await getJson(specs, "victim", SpecRecord))?.value.revision).toBe(1);
  });

  it("a body over the HTTP limit is 413 SY_ERR_TOO_LARGE and stores nothing; the client, still writing, reads it", async () => {
    const big = JSON.stringify({
      yaml: serviceYaml("huge"),
      env: { AUTH_TOKEN: "x".repeat(4 * 1024 * 1024) },
    });
    // Several times: a server that answers and closes while the body is still arriving makes the
    // client's write fail with EPIPE/ECONNRESET before it reads the answer, some of the time.
    for (let i = 0; i < 5; i++) {
      const r = await send(port, "POST", "/v1/services", { host: host(), ...json, ...auth }, big);
      expect([r.status, r.body.code]).toEqual([413, "SY_ERR_TOO_LARGE"]);
    }
    expect(await getJson(specs, "huge", SpecRecord)).toBeNull();
  });

  it("the API token never reaches the log", () => {
    expect(spec.lines.some((l) => l.includes("http request refused"))).toBe(true);
    expect(spec.lines.join("\n")).not.toContain(API_TOKEN);
    expect(spec.lines.join("\n")).not.toContain(SERVICE_TOKEN);
  });
});

describe("spec HTTP API configuration", () => {
  it("without a token the HTTP API stays off and says how to turn it on", async () => {
    const nats = await startNats();
    const spec = startTs("services/spec/src/main.ts", [], { NATS_URL: nats.url, YARD_SPEC_HTTP_PORT: "0" });
    try {
      const off = await spec.waitForLine(/HTTP API off/, 60_000);
      expect(off).toContain("YARD_SPEC_API_TOKEN");
      await spec.waitForLine(/"msg":"ready"/);
      expect(spec.lines.some((l) => l.includes('"msg":"listening"'))).toBe(false);
    } finally {
      await spec.stop();
      await nats.dispose();
    }
  });

  it.each([
    { name: "a token file readable by others", mode: 0o644, text: `${API_TOKEN}\n`, why: "chmod 600" },
    { name: "a short token", mode: 0o600, text: "short\n", why: "at least 16" },
  ])("refuses $name at start, naming the variable and not the token", async ({ mode, text, why }) => {
    const dir = mkdtempSync(join(tmpdir(), "yard-spec-auth-"));
    const file = join(dir, "t");
    writeFileSync(file, text);
    chmodSync(file, mode);
    const r = await run("services/spec/src/main.ts", [], {
      NATS_URL: "nats://127.0.0.1:1",
      YARD_SPEC_API_TOKEN_FILE: file,
    });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("YARD_SPEC_API_TOKEN_FILE");
    expect(r.stdout + r.stderr).toContain(why);
    expect(r.stdout + r.stderr).not.toContain(API_TOKEN);
  });
});
