import type { IncomingMessage } from "node:http";
import { PassThrough } from "node:stream";

/**
 * A request body too large to buffer, handed to undici through a PassThrough of our own, with
 * back-pressure both ways. undici destroys the body it was given when an attempt ends before
 * the body was sent (a replica that answers 413 at once, a reset); destroying the client's
 * request would leave Node's parser stuck on the rest of it. With the relay, the client's
 * request stays whole: once undici lets go, the rest of the body is read and dropped and the
 * connection carries the client's next request (nginx discards an unwanted body the same way).
 * `onChunk` sees every chunk read from the client, dropped ones included.
 */
export function relayBody(req: IncomingMessage, onChunk: () => void): PassThrough {
  const pass = new PassThrough();
  req.on("data", (c: Buffer) => {
    onChunk();
    if (!pass.destroyed && !pass.write(c)) req.pause();
  });
  pass.on("drain", () => req.resume());
  req.once("end", () => pass.end());
  // A body cut by the client: undici must not wait for the rest.
  req.once("close", () => {
    if (!req.complete) pass.destroy(new Error("the client's request body was cut"));
  });
  pass.once("close", () => {
    if (!req.readableEnded) req.resume(); // undici is done with it: read and drop the rest
  });
  return pass;
}
