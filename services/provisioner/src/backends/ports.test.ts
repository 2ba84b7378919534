import { describe, expect, it } from "vitest";
import { decidePort, hardcodedPorts } from "./ports.js";

describe("hardcodedPorts", () => {
  it.each([
    {
      name: "seed vLLM line",
      run: "python -m vllm... \\\n  --host 0.0.0.0 --port 8000 \\\n  --api-key $K",
      ports: [8000],
    },
    { name: "--port=", run: "serve --port=9000", ports: [9000] },
    { name: "PORT= env", run: "PORT=3000 node app.js", ports: [3000] },
    { name: "uses $YARD_REPLICA_PORT", run: "fake-openai-engine --port $YARD_REPLICA_PORT", ports: [] },
    { name: "no run", run: null, ports: [] },
    { name: "other numbers are not ports", run: "sleep 8000; --max-tokens 8000", ports: [] },
  ])("$name", ({ run, ports }) => {
    expect(hardcodedPorts(run)).toEqual(ports);
  });
});

describe("decidePort", () => {
  const base = { specPort: 8000, freePort: 41234, heldBy: null };
  it.each([
    { name: "spec port free", specPortFree: true, run: "x --port 8000", out: { ok: true, port: 8000 } },
    {
      name: "spec port taken, run uses $YARD_REPLICA_PORT → a free port",
      specPortFree: false,
      run: "x --port $YARD_REPLICA_PORT",
      out: { ok: true, port: 41234 },
    },
    {
      name: "spec port taken, no run (nothing binds it literally) → a free port",
      specPortFree: false,
      run: null,
      out: { ok: true, port: 41234 },
    },
  ])("$name", ({ specPortFree, run, out }) => {
    expect(decidePort({ ...base, specPortFree, run })).toEqual(out);
  });

  it("spec port taken and hard-coded → a clear failure naming the holder and the fix", () => {
    const d = decidePort({ ...base, specPortFree: false, run: "vllm --port 8000", heldBy: "llm.1" });
    expect(d).toEqual({
      ok: false,
      message:
        "port 8000 is in use on this host (by replica llm.1) and the run command hard-codes it (--port 8000): " +
        "only one such replica fits per host; use --port $YARD_REPLICA_PORT to run several",
    });
  });
});
