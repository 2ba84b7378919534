import replyFrom from "@fastify/reply-from";
import Fastify from "fastify";

/**
 * The baseline of perf-peers.md: fastify 5 + @fastify/reply-from 12 with a plain config,
 * one process. argv: <upstream url>. Prints `listening <port>`.
 */
const [upstream] = process.argv.slice(2);
const app = Fastify({ logger: false, forceCloseConnections: true });
await app.register(replyFrom, { base: upstream });
app.all("/*", (req, reply) => reply.from(req.url));
const address = await app.listen({ host: "127.0.0.1", port: 0 });
console.log(`listening ${new URL(address).port}`);
// SIGTERM: close the server and its connections; the process then ends with nothing left to do.
process.on("SIGTERM", () => void app.close());
