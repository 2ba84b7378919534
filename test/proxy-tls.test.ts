import { X509Certificate } from "node:crypto";
import { copyFileSync, renameSync, writeFileSync } from "node:fs";
import type { LookupFunction } from "node:net";
import { join } from "node:path";
import { connect, type PeerCertificate } from "node:tls";
import { Buckets } from "@switchyard/contracts";
import { endpointRecord, type Proc, startTs, TestCa, type TestCert, TestSystem } from "@switchyard/testkit";
import OpenAI from "openai";
import { Agent, Client, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProxyProc, startEngine, startProxy } from "../services/proxy/test/helpers.js";

// Issue 8 item 8, end to end: a real nats-server, spec service, `yard` CLI, proxy (HTTPS) and a
// fake OpenAI engine (the test plays the prober: it writes the endpoints). Certificates come from
// a throwaway CA made with openssl; every client trusts that CA alone.
const KEY = "sk-tls-SECRET-8d1f";
const sys = new TestSystem({ buckets: [Buckets.endpoints] });
const ca = new TestCa();
// The proxy-wide pair lives in its own files, replaced during the suite (rotation).
const proxyCert = join(ca.dir, "proxy-live.crt");
const proxyKey = join(ca.dir, "proxy-live.key");
let first: TestCert;
let alpha: TestCert;
let beta: TestCert;
let engine: { proc: Proc; url: string };
let proxy: ProxyProc;
let port: number;

/** `<anything>` resolves to 127.0.0.1: the suite's host names exist only for SNI and Host. */
const loopback: LookupFunction = (_host, opts, cb) => {
  if (opts.all)
    (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [
      { address: "127.0.0.1", family: 4 },
    ]);
  else cb(null, "127.0.0.1", 4);
};
const agent = new Agent({ connect: { ca: ca.ca.cert, lookup: loopback } });

function client(service: string, apiKey = KEY): OpenAI {
  return new OpenAI({
    apiKey,
    baseURL: `https://${service}.localhost:${port}/v1`,
    maxRetries: 0,
    fetch: ((url: string, init: object) => undiciFetch(url, { ...init, dispatcher: agent })) as never,
  });
}

/**
 * The leaf certificate the proxy presents for `servername`, its chain verified against the test
 * CA; with `anyName`, also one that does not name `servername` (the proxy-wide fallback).
 */
function peerCert(servername: string, anyName = false, at = port): Promise<PeerCertificate> {
  const opts = { host: "127.0.0.1", port: at, servername, ca: ca.ca.cert };
  return new Promise((resolve, reject) => {
    const s = connect(anyName ? { ...opts, checkServerIdentity: () => undefined } : opts, () => {
      const c = s.getPeerCertificate();
      s.end();
      resolve(c);
    });
    s.on("error", reject);
  });
}

function serviceYaml(tls: { certfile: string; keyfile: string } | null): string {
  return [
    "service:",
    "  readiness_probe: /v1/models",
    "  replicas: 1",
    ...(tls ? ["  tls:", `    certfile: ${tls.certfile}`, `    keyfile: ${tls.keyfile}`] : []),
    "resources:",
    "  ports: 8000",
    "run: sleep 1",
  ].join("\n");
}

const fp = (c: TestCert) => new X509Certificate(c.cert).fingerprint256;

/** The key's base64 body lines: none may appear in any output. */
const keyLines = (c: TestCert) => c.key.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"));

beforeAll(async () => {
  first = ca.issue("proxy.localhost", ["proxy.localhost"], "proxy-1");
  alpha = ca.issue("alpha.localhost", ["alpha.localhost"]);
  beta = ca.issue("beta.localhost", ["beta.localhost"]);
  copyFileSync(first.certFile, proxyCert);
  copyFileSync(first.keyFile, proxyKey);
  await sys.start("spec");
  engine = await startEngine(KEY);
  proxy = await startProxy(sys.nats.url, { YARD_PROXY_TLS_CERT: proxyCert, YARD_PROXY_TLS_KEY: proxyKey });
  expect(proxy.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  port = Number(new URL(proxy.url).port);
}, 120_000);

afterAll(async () => {
  await proxy?.proc.stop();
  await engine?.proc.stop();
  await agent.close();
  await sys.dispose();
});

describe("services with service.tls behind an HTTPS proxy", () => {
  it("yard up sends each service's files; the proxy loads both certificates; endpoints are https://", async () => {
    for (const [name, c] of [
      ["alpha", alpha],
      ["beta", beta],
    ] as const) {
      const r = await sys.yard([
        "up",
        sys.writeYaml(name, serviceYaml({ certfile: c.certFile, keyfile: c.keyFile })),
      ]);
      expect(r.code, r.all).toBe(0);
      expect(r.stdout).toContain(`Endpoint: https://${name}.localhost:8080`);
      await proxy.logged(new RegExp(`"service":"${name}".*"msg":"service certificate loaded"`));
      await sys.putEndpoint(endpointRecord({ service: name, replica_id: 1, url: engine.url }));
    }
    const plain = await sys.yard(["up", sys.writeYaml("gamma", serviceYaml(null))]);
    expect(plain.code, plain.all).toBe(0);
    const st = await sys.yard(["status"]);
    expect(st.code, st.all).toBe(0);
    expect(st.stdout).toMatch(/alpha .*https:\/\/alpha\.localhost:8080/);
    expect(st.stdout).toMatch(/beta .*https:\/\/beta\.localhost:8080/);
    expect(st.stdout).toMatch(/gamma .*http:\/\/gamma\.localhost:8080/);
  });

  it("the official openai client reaches a service over HTTPS with its bearer token", async () => {
    await proxy.logged(/"replica":"beta\.1".*"msg":"route table changed"/);
    const chat = await client("alpha").chat.completions.create({
      model: "fake-model",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 4,
    });
    expect(chat.object).toBe("chat.completion");
    expect(chat.choices[0].message.content).toBeTruthy();
    const models = await client("beta").models.list();
    expect(models.data.map((m) => m.id)).toContain("fake-model");
    // The replica's own 401 for a wrong token, through TLS.
    await expect(client("alpha", "sk-wrong").models.list()).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
  });

  it("SNI picks each service's own certificate; any other name gets the proxy-wide one", async () => {
    expect((await peerCert("alpha.localhost")).fingerprint256).toBe(fp(alpha));
    expect((await peerCert("beta.localhost")).fingerprint256).toBe(fp(beta));
    expect((await peerCert("gamma.localhost", true)).fingerprint256).toBe(fp(first));
    expect((await peerCert("proxy.localhost")).subject.CN).toBe("proxy.localhost");
  });

  it("YARD_PROXY_TLS=true without a proxy-wide pair: service hosts only, other names fail the handshake", async () => {
    const sniOnly = await startProxy(sys.nats.url, { YARD_PROXY_TLS: "true" });
    try {
      await sniOnly.logged(/"service":"alpha".*"msg":"service certificate loaded"/);
      const at = Number(new URL(sniOnly.url).port);
      expect((await peerCert("alpha.localhost", false, at)).fingerprint256).toBe(fp(alpha));
      await expect(peerCert("nobody.localhost", true, at)).rejects.toThrow(/handshake failure/);
      expect(sniOnly.proc.child.exitCode).toBeNull();
    } finally {
      await sniOnly.proc.stop();
    }
  });

  it("YARD_PROXY_WORKERS=2: every worker serves HTTPS with the proxy-wide and service certificates", async () => {
    const cluster = await startProxy(sys.nats.url, {
      YARD_PROXY_WORKERS: "2",
      YARD_PROXY_TLS_CERT: proxyCert,
      YARD_PROXY_TLS_KEY: proxyKey,
    });
    try {
      // startProxy returns at the first "ready", a worker's: wait for the primary's (all workers).
      await cluster.logged(/"workers":2,"msg":"ready"/);
      expect(cluster.url).toMatch(/^https:\/\//);
      const at = Number(new URL(cluster.url).port);
      // Connections are spread over the workers: several handshakes reach both.
      for (let i = 0; i < 6; i++) {
        expect((await peerCert("alpha.localhost", false, at)).fingerprint256).toBe(fp(alpha));
        expect((await peerCert("other.localhost", true, at)).fingerprint256).toBe(fp(first));
      }
    } finally {
      // SIGTERM to the primary alone (Proc.stop signals the whole group: workers would get two).
      cluster.proc.child.kill("SIGTERM");
      expect(await cluster.proc.exited, cluster.proc.lines.slice(-30).join("\n")).toBe(0);
    }
  });

  it("yard up --dry-run checks the pair locally and shows the certificate, never the key", async () => {
    const r = await sys.yard([
      "up",
      "--dry-run",
      sys.writeYaml("alpha-dry", serviceYaml({ certfile: alpha.certFile, keyfile: alpha.keyFile })),
    ]);
    expect(r.code, r.all).toBe(0);
    expect(r.stdout).toContain(`# service.tls: CN=alpha.localhost, SHA-256 ${fp(alpha)}`);
    expect(r.stdout).toContain(`certfile: ${alpha.certFile}`);
    const bad = await sys.yard([
      "up",
      "--dry-run",
      sys.writeYaml("alpha-dry", serviceYaml({ certfile: alpha.keyFile, keyfile: alpha.certFile })),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("service.tls.certfile: is not a PEM certificate");
    expect(bad.stderr).toContain("service.tls.keyfile: is not a PEM private key");
  });

  it("a new proxy-wide pair is served to new connections without a restart; a bad one is refused", async () => {
    const next = ca.issue("proxy.localhost", ["proxy.localhost"], "proxy-2");
    const nextFp = fp(next);
    // One kept-alive connection, opened on the old pair, must live through the reload.
    const kept = new Client(proxy.url, {
      connect: { ca: ca.ca.cert, servername: "proxy.localhost" },
      pipelining: 1,
    });
    let connects = 0;
    let disconnects = 0;
    kept.on("connect", () => connects++);
    kept.on("disconnect", () => disconnects++);
    const models = async () => {
      const r = await kept.request({
        path: "/v1/models",
        method: "GET",
        headers: { host: "alpha.localhost", authorization: `Bearer ${KEY}` },
      });
      await r.body.text();
      return r.statusCode;
    };
    expect(await models()).toBe(200);
    // Atomic replacement of each file, as a certificate manager does.
    copyFileSync(next.keyFile, `${proxyKey}.tmp`);
    renameSync(`${proxyKey}.tmp`, proxyKey);
    copyFileSync(next.certFile, `${proxyCert}.tmp`);
    renameSync(`${proxyCert}.tmp`, proxyCert);
    await proxy.logged(new RegExp(`"fingerprint256":"${nextFp}".*"msg":"proxy certificate reloaded"`));
    expect((await peerCert("proxy.localhost")).fingerprint256).toBe(nextFp);
    expect(await models()).toBe(200);
    expect([connects, disconnects]).toEqual([1, 0]);
    await kept.close();

    writeFileSync(proxyCert, "not a certificate\n");
    await proxy.logged(
      /YARD_PROXY_TLS_CERT: [^"]* is not a PEM certificate.*"msg":"proxy certificate not reloaded; serving the previous one"/,
    );
    expect((await peerCert("proxy.localhost")).fingerprint256).toBe(nextFp);
    expect(proxy.proc.child.exitCode).toBeNull();
  });

  it("yard down removes the service's certificate from the proxy", async () => {
    const r = await sys.yard(["down", "beta"]);
    expect(r.code, r.all).toBe(0);
    await proxy.logged(/"service":"beta".*"msg":"service certificate removed"/);
    expect((await peerCert("beta.localhost", true)).subject.CN).toBe("proxy.localhost");
    await expect(peerCert("beta.localhost")).rejects.toThrow(/altnames/);
  });

  it("a key that is not the certificate's is refused, naming the field", async () => {
    const r = await sys.yard([
      "up",
      sys.writeYaml("delta", serviceYaml({ certfile: alpha.certFile, keyfile: beta.keyFile })),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("SY_ERR_SPEC_INVALID");
    expect(r.stderr).toContain("service.tls.keyfile: is not the private key of the certificate in certfile");
    const missing = await sys.yard([
      "up",
      sys.writeYaml("delta", serviceYaml({ certfile: join(ca.dir, "nope.crt"), keyfile: beta.keyFile })),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read service.tls.certfile");
  });

  it("no private key appears in any log line or CLI output", () => {
    const all = [...sys.allOutput(), ...proxy.proc.lines].join("\n");
    for (const c of [alpha, beta, first]) for (const l of keyLines(c)) expect(all).not.toContain(l);
  });
});

describe("a proxy whose certificate files are unusable does not start", () => {
  it.each([
    [
      "a file that is no certificate",
      "YARD_PROXY_TLS_CERT",
      { YARD_PROXY_TLS_CERT: "BAD", YARD_PROXY_TLS_KEY: "KEY" },
    ],
    [
      "a key of another certificate",
      "YARD_PROXY_TLS_KEY",
      { YARD_PROXY_TLS_CERT: "ALPHA", YARD_PROXY_TLS_KEY: "BETA" },
    ],
    ["a certificate without its key", "YARD_PROXY_TLS_KEY", { YARD_PROXY_TLS_CERT: "ALPHA" }],
    ["a missing file", "YARD_PROXY_TLS_CERT", { YARD_PROXY_TLS_CERT: "MISSING", YARD_PROXY_TLS_KEY: "KEY" }],
  ])("%s: exit 1, SY_ERR_CONFIG naming %s", async (_name, named, env) => {
    const bad = join(ca.dir, "bad.crt");
    writeFileSync(bad, "-----BEGIN CERTIFICATE-----\nbad\n-----END CERTIFICATE-----\n");
    const paths: Record<string, string> = {
      BAD: bad,
      KEY: alpha.keyFile,
      ALPHA: alpha.certFile,
      BETA: beta.keyFile,
      MISSING: join(ca.dir, "missing.crt"),
    };
    const p = startTs("services/proxy/src/main.ts", [], {
      NATS_URL: "nats://127.0.0.1:1",
      YARD_PROXY_PORT: "0",
      YARD_PROXY_ADMIN_PORT: "0",
      ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, paths[v]])),
    });
    expect(await p.exited).toBe(1);
    const out = p.lines.join("\n");
    expect(out).toContain("SY_ERR_CONFIG");
    expect(out).toContain(named);
    for (const l of keyLines(alpha)) expect(out).not.toContain(l);
  });
});
