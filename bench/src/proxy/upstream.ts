import { createServer } from "node:http";

/**
 * The bench's fast upstream (a child process): `/v1/models` answers a 205-byte JSON body only
 * with the right bearer token (401 otherwise), like the nginx upstream of perf-peers.md.
 * argv: <port> <token>. Prints `listening <port>`.
 */
const [portArg, token] = process.argv.slice(2);
const expected = `Bearer ${token}`;
const ok = Buffer.from(
  JSON.stringify({
    object: "list",
    data: [
      { id: "bench-model", object: "model", created: 1764288000, owned_by: "switchyard-bench", root: "m" },
    ],
  }).padEnd(205, " "),
);
const denied = Buffer.from(JSON.stringify({ error: "unauthorized" }));
const server = createServer((req, res) => {
  if (req.headers.authorization !== expected) {
    res.writeHead(401, { "content-type": "application/json", "content-length": denied.length });
    res.end(denied);
    return;
  }
  res.writeHead(200, { "content-type": "application/json", "content-length": ok.length });
  res.end(ok);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(portArg ?? 0), "127.0.0.1", () => {
  const a = server.address();
  console.log(`listening ${typeof a === "object" && a ? a.port : portArg}`);
});
// SIGTERM: close the server and its kept-alive connections; the process then ends by itself.
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
});
