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
        maxNumSeqs: 256,
        prefillMs: 0,
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
      "--host 127.0.0.1 --port 0 --model m --startup-delay-ms 5 --fail-after 3 --token-delay-ms 7 --tokens 2 --max-num-seqs 4 --prefill-ms 9".split(
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
        maxNumSeqs: 4,
        prefillMs: 9,
      },
    });
  });

  it.each([
    { rate: "50", delay: 20 },
    { rate: "2.5", delay: 400 },
    { rate: "1000000", delay: 0.001 },
  ])("--tokens-per-second $rate = a token every $delay ms", ({ rate, delay }) => {
    const r = parseEngineArgs(["--tokens-per-second", rate]);
    expect(r.help === false && r.options.tokenDelayMs).toBeCloseTo(delay, 9);
  });

  it.each([
    { name: "non-numeric port", argv: ["--port", "x"], err: /--port must be an integer/ },
    { name: "port too big", argv: ["--port", "70000"], err: /--port/ },
    { name: "fail-after 0", argv: ["--fail-after", "0"], err: /--fail-after must be an integer from 1/ },
    { name: "tokens 0", argv: ["--tokens", "0"], err: /--tokens/ },
    {
      name: "tokens beyond the context",
      argv: ["--tokens", "4097"],
      err: /--tokens must be an integer from 1 to 4096/,
    },
    { name: "unknown flag", argv: ["--gpu"], err: /gpu/ },
    {
      name: "max-num-seqs 0",
      argv: ["--max-num-seqs", "0"],
      err: /--max-num-seqs must be an integer from 1/,
    },
    { name: "max-num-seqs -1", argv: ["--max-num-seqs", "-1"], err: /--max-num-seqs/ },
    { name: "prefill-ms 1.5", argv: ["--prefill-ms", "1.5"], err: /--prefill-ms/ },
    {
      name: "tokens-per-second 0",
      argv: ["--tokens-per-second", "0"],
      err: /--tokens-per-second must be a number above 0/,
    },
    { name: "tokens-per-second 1e3", argv: ["--tokens-per-second", "1e3"], err: /--tokens-per-second/ },
    { name: "tokens-per-second NaN", argv: ["--tokens-per-second", "NaN"], err: /--tokens-per-second/ },
    {
      name: "tokens-per-second too big",
      argv: ["--tokens-per-second", "1000001"],
      err: /--tokens-per-second/,
    },
    {
      name: "both a rate and a delay",
      argv: ["--tokens-per-second", "5", "--token-delay-ms", "5"],
      err: /give one/,
    },
  ])("rejects $name", ({ argv, err }) => {
    expect(() => parseEngineArgs(argv)).toThrow(err);
  });

  it("--help", () => {
    expect(parseEngineArgs(["--help"])).toEqual({ help: true });
  });
});
