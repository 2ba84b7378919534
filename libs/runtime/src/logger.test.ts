import { describe, expect, it } from "vitest";
import { logSink as sink } from "./log-sink.test-util.js";
import { createLogger } from "./logger.js";

const TOKEN = "tok-planted-9f8e7d";

describe("createLogger", () => {
  it.each([
    { name: "request headers", obj: { req: { headers: { authorization: `Bearer ${TOKEN}` } } } },
    { name: "probe headers", obj: { probe: { headers: { Authorization: `Bearer ${TOKEN}` } } } },
    { name: "bare headers", obj: { headers: { "x-api-key": TOKEN } } },
    { name: "spec envs", obj: { spec: { envs: { AUTH_TOKEN: TOKEN } } } },
    { name: "top-level envs", obj: { envs: { AUTH_TOKEN: TOKEN } } },
    { name: "token field", obj: { token: TOKEN } },
    { name: "secrets", obj: { secrets: { K: TOKEN } } },
  ])("redacts secrets in $name", ({ obj }) => {
    const { lines, dest } = sink();
    createLogger({ name: "t", destination: dest }).info(obj, "hello");
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(TOKEN);
    expect(JSON.parse(lines[0])).toMatchObject({ svc: "t", msg: "hello" });
  });
});
