import assert from "node:assert/strict";
import { FramedConnection } from "./framed_connection.ts";

Deno.test("a peer killed with unread data closes the connection, not as broken", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  // A process that connects and never reads, as an engine whose process is
  // killed with a ping in its buffer: the kernel resets the connection.
  const peer = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `await Deno.connect({ hostname: "127.0.0.1", port: ${listener.addr.port} });` +
      "await new Promise(() => setInterval(() => {}, 1000));",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const conn = new FramedConnection(await listener.accept());
  const closed = Promise.withResolvers<string>();
  conn.onClose = (reason) => closed.resolve(reason);
  conn.start();
  await conn.send({ t: "ping" });
  await new Promise((resolve) => setTimeout(resolve, 100));
  peer.kill("SIGKILL");
  await peer.status;
  const reason = await closed.promise;
  assert.equal(reason, "the peer reset the connection");
  assert.equal(conn.broken, false);
  await conn.closed;
});
