import { request } from "node:https";
import { TestCa } from "@switchyard/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProxyProc, startProxy, TestBus } from "./helpers.js";
import { Upstream } from "./upstream.js";

/** Over HTTPS, a replica that asks for X-Forwarded-* learns the client spoke https. */
describe("X-Forwarded-Proto over TLS", () => {
  let bus: TestBus;
  let up: Upstream;
  let proxy: ProxyProc;
  const ca = new TestCa();
  const cert = ca.issue("proxy", ["fw.localhost"]);

  beforeAll(async () => {
    bus = await TestBus.start();
    up = await new Upstream("r1").start();
    await bus.putService("fw", "least_load");
    const rev = await bus.putEndpoint("fw", 1, up.url);
    proxy = await startProxy(bus.nats.url, {
      YARD_PROXY_TLS_CERT: cert.certFile,
      YARD_PROXY_TLS_KEY: cert.keyFile,
      YARD_PROXY_FORWARDED_HEADERS: "true",
    });
    await proxy.applied(rev);
  });
  afterAll(async () => {
    await proxy?.proc.stop();
    await up?.stop();
    await bus?.close();
  });

  it("is https for a request that came over TLS", async () => {
    const port = Number(new URL(proxy.url).port);
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path: "/echo",
          servername: "fw.localhost",
          ca: ca.ca.cert,
          headers: { host: "fw.localhost" },
        },
        (res) => {
          let text = "";
          res.on("data", (d) => {
            text += d;
          });
          res.on("end", () => resolve(text));
        },
      );
      req.on("error", reject);
      req.end();
    });
    const raw: string[] = JSON.parse(body).headers;
    const at = raw.findIndex((h) => h.toLowerCase() === "x-forwarded-proto");
    expect(raw[at + 1]).toBe("https");
  });
});
