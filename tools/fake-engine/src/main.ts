import { buildEngine } from "./app.js";
import { parseEngineArgs, USAGE } from "./args.js";

// The fake OpenAI engine: the stand-in for vLLM's OpenAI server on machines without GPUs.
// Output is plain lines (like vLLM's), never the api key or any request header.
const out = (line: string) => process.stdout.write(`${line}\n`);

let parsed: ReturnType<typeof parseEngineArgs>;
try {
  parsed = parseEngineArgs(process.argv.slice(2), process.env);
} catch (err) {
  process.stderr.write(`fake-openai-engine: ${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (parsed.help) {
  out(USAGE);
  process.exit(0);
}
const o = parsed.options;

const app = buildEngine(o, {
  log: out,
  onAnswered: (n) => {
    if (o.failAfter !== null && n >= o.failAfter) {
      out(`fake-openai-engine crashing on purpose after ${n} requests (--fail-after)`);
      process.exit(1);
    }
  },
});

let stopping = false;
process.on("SIGTERM", () => {
  stopping = true;
  void app.close().then(() => process.exit(0));
});
process.on("SIGINT", () => process.exit(0));

out(
  `fake-openai-engine (vLLM stand-in) starting: model ${o.model}, auth ${o.apiKey === null ? "off" : "on"}, ` +
    `max-num-seqs ${o.maxNumSeqs}` +
    (o.startupDelayMs ? `, loading for ${o.startupDelayMs} ms` : ""),
);
if (o.startupDelayMs) await new Promise((r) => setTimeout(r, o.startupDelayMs));
if (!stopping) {
  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (err) {
    process.stderr.write(
      `fake-openai-engine: cannot listen on ${o.host}:${o.port}: ${(err as Error).message}\n`,
    );
    process.exit(1);
  }
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;
  out(`fake-openai-engine listening on http://${o.host.includes(":") ? `[${o.host}]` : o.host}:${port}`);
}
