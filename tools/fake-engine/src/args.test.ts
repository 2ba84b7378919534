import { describe, expect, it } from "vitest";
import { parseEngineArgs } from "./args.js";

describe("parseEngineArgs", () => {
  it("defaults as vLLM's server: 0.0.0.0:8000, no key, model fake-model", () => {
    expect(parseEngineArgs([])).toEqual({
      help: false,
      options: {
        host: "0.0.0.0",
        port: 8000,
        apiKey: null,
        model: "fake-model",
        startupDelayMs: 0,
        failAfter: null,
        tokenDelayMs: 0,
        tokens: 8,
      },
    });
  });

  it.each([
    { name: "flag key", argv: ["--api-key", "k1"], env: {}, key: "k1" },
    { name: "env key (VLLM_API_KEY)", argv: [], env: { VLLM_API_KEY: "k2" }, key: "k2" },
    { name: "flag wins over env", argv: ["--api-key", "k1"], env: { VLLM_API_KEY: "k2" }, key: "k1" },
    { name: "empty env = no key", argv: [], env: { VLLM_API_KEY: "" }, key: null },
  ])("api key: $name", ({ argv, env, key }) => {
    const r = parseEngineArgs(argv, env);
    expect(r.help === false && r.options.apiKey).toBe(key);
  });

  it("reads every option", () => {
    const r = parseEngineArgs(
      "--host 127.0.0.1 --port 0 --model m --startup-delay-ms 5 --fail-after 3 --token-delay-ms 7 --tokens 2".split(
        " ",
      ),
    );
    expect(r).toMatchObject({
      options: {
        host: "127.0.0.1",
        port: 0,
        model: "m",
        startupDelayMs: 5,
        failAfter: 3,
        tokenDelayMs: 7,
        tokens: 2,
      },
    });
  });

  it.each([
    { name: "non-numeric port", argv: ["--port", "x"], err: /--port must be an integer/ },
    { name: "port too big", argv: ["--port", "70000"], err: /--port/ },
    { name: "fail-after 0", argv: ["--fail-after", "0"], err: /--fail-after must be an integer from 1/ },
    { name: "tokens 0", argv: ["--tokens", "0"], err: /--tokens/ },
    { name: "unknown flag", argv: ["--gpu"], err: /gpu/ },
  ])("rejects $name", ({ argv, err }) => {
    expect(() => parseEngineArgs(argv)).toThrow(err);
  });

  it("--help", () => {
    expect(parseEngineArgs(["--help"])).toEqual({ help: true });
  });
});
