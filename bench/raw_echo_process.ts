/**
 * A raw limit's other end: a bare deno process shaped as an engine process
 * is, with no troupe code. It connects to the port it is given, passes what
 * it reads to a node:worker_threads thread of its own, and writes back
 * what the thread posts: the socket on the main thread, the work on
 * another, and one thread hop each way, as an engine process's relay does.
 *
 *   deno run -A bench/raw_echo_process.ts PORT
 *
 * @module
 */

import { Worker } from "node:worker_threads";

const port = Number(Deno.args[0]);
const conn = await Deno.connect({ hostname: "127.0.0.1", port });
conn.setNoDelay(true);
const thread = new Worker(new URL("./raw_echo_worker.ts", import.meta.url));
// An echo needs no framing: bytes in, the same bytes out.
thread.on("message", (bytes: Uint8Array) => {
  conn.write(bytes).catch(() => {});
});
const buffer = new Uint8Array(64 * 1024);
while (true) {
  const n = await conn.read(buffer).catch(() => null);
  if (n === null) break;
  thread.postMessage(buffer.slice(0, n));
}
await thread.terminate();
