/**
 * The raw limits troupe's figures are printed beside, measured in the same
 * run: bare Worker echoes, bare TCP msgpack frames, starting bare Workers
 * and bare deno processes.
 *
 * @module
 */

import { decode, encode } from "@msgpack/msgpack";
import { Worker } from "node:worker_threads";
import { N_LATENCY } from "./config.ts";
import { timeEach } from "./stats.ts";

async function bareNodeWorker(): Promise<{
  roundTrip: (m: unknown) => Promise<unknown>;
  worker: Worker;
}> {
  const worker = new Worker(new URL("./raw_echo_worker.ts", import.meta.url));
  const roundTrip = (message: unknown) =>
    new Promise((resolve) => {
      worker.once("message", resolve);
      worker.postMessage(message);
    });
  await roundTrip(0);
  return { roundTrip, worker };
}

export async function rawWorkerPingPong(): Promise<number[]> {
  const { roundTrip, worker } = await bareNodeWorker();
  const samples = await timeEach(N_LATENCY, 200, () => roundTrip({ t: 1 }));
  await worker.terminate();
  return samples;
}

export async function rawWebWorkerPingPong(): Promise<number[]> {
  const worker = new globalThis.Worker(
    new URL("./raw_echo_web_worker.ts", import.meta.url),
    { type: "module" },
  );
  const roundTrip = () =>
    new Promise((resolve) => {
      worker.onmessage = resolve;
      worker.postMessage({ t: 1 });
    });
  const samples = await timeEach(N_LATENCY, 200, roundTrip);
  worker.terminate();
  return samples;
}

export async function rawWorkerPipelined(n: number): Promise<number> {
  const { worker } = await bareNodeWorker();
  let left = n;
  const done = Promise.withResolvers<void>();
  worker.on("message", () => --left === 0 && done.resolve());
  const start = performance.now();
  for (let i = 0; i < n; i++) worker.postMessage({ i });
  await done.promise;
  const perSecond = n / ((performance.now() - start) / 1000);
  await worker.terminate();
  return perSecond;
}

/** A bare TCP echo of length-prefixed msgpack frames, no troupe code. */
export async function rawTcp() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serverSide = (async () => {
    const conn = await listener.accept();
    conn.setNoDelay(true);
    for await (const chunk of conn.readable) {
      // An echo needs no framing: bytes in, same bytes out.
      let written = 0;
      while (written < chunk.byteLength) {
        written += await conn.write(chunk.subarray(written));
      }
    }
  })().catch(() => {});
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  conn.setNoDelay(true);
  const reader = conn.readable.getReader();
  let pending = new Uint8Array(0);
  const readFrame = async (): Promise<unknown> => {
    while (true) {
      if (pending.byteLength >= 4) {
        const n = new DataView(pending.buffer, pending.byteOffset).getUint32(0);
        if (pending.byteLength >= 4 + n) {
          const body = pending.subarray(4, 4 + n);
          pending = pending.subarray(4 + n);
          return decode(body);
        }
      }
      const { value } = await reader.read();
      const joined = new Uint8Array(pending.byteLength + value!.byteLength);
      joined.set(pending);
      joined.set(value!, pending.byteLength);
      pending = joined;
    }
  };
  const frame = (value: unknown) => {
    const body = encode(value);
    const out = new Uint8Array(4 + body.byteLength);
    new DataView(out.buffer).setUint32(0, body.byteLength);
    out.set(body, 4);
    return out;
  };
  const writeAll = async (bytes: Uint8Array) => {
    let written = 0;
    while (written < bytes.byteLength) {
      written += await conn.write(bytes.subarray(written));
    }
  };
  return {
    async pingPong(): Promise<number[]> {
      return await timeEach(N_LATENCY, 200, async () => {
        await writeAll(frame({ t: "ping" }));
        await readFrame();
      });
    },
    async pipelined(n: number): Promise<number> {
      const start = performance.now();
      const bytes = frame({ t: "x", i: 1 });
      const all = new Uint8Array(bytes.byteLength * n);
      for (let i = 0; i < n; i++) all.set(bytes, i * bytes.byteLength);
      const writing = writeAll(all);
      for (let i = 0; i < n; i++) await readFrame();
      await writing;
      return n / ((performance.now() - start) / 1000);
    },
    async bulkMBps(bytes: number): Promise<number> {
      const body = new Uint8Array(bytes);
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, bytes);
      const start = performance.now();
      await writeAll(header);
      const writing = writeAll(body);
      let got = 0;
      while (got < bytes + 4) {
        if (pending.byteLength > 0) {
          got += pending.byteLength;
          pending = new Uint8Array(0);
          continue;
        }
        const { value } = await reader.read();
        got += value!.byteLength;
      }
      await writing;
      return bytes / 2 ** 20 / ((performance.now() - start) / 1000);
    },
    async close() {
      reader.releaseLock();
      conn.close();
      listener.close();
      await serverSide;
    },
  };
}

/**
 * The no-op round trip's raw limit for an engine process, in µs per round
 * trip: a frame to a bare deno process (`raw_echo_process.ts`), which hands
 * it to a thread of its own and writes back what the thread returns. The
 * same path as troupe's (a socket, a process, its thread hop each way), with
 * none of troupe's code: what no change to troupe's code can go below.
 *
 * @example
 * ```ts
 * import { rawProcessHopPingPong } from "./raw_limits.ts";
 * import { median } from "./stats.ts";
 * console.log(median(await rawProcessHopPingPong()));
 * ```
 */
export async function rawProcessHopPingPong(): Promise<number[]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./raw_echo_process.ts", import.meta.url).pathname,
      String(listener.addr.port),
    ],
  }).spawn();
  const conn = await listener.accept();
  conn.setNoDelay(true);
  const body = encode({ t: "ping" });
  const frame = new Uint8Array(4 + body.byteLength);
  new DataView(frame.buffer).setUint32(0, body.byteLength);
  frame.set(body, 4);
  const buffer = new Uint8Array(64 * 1024);
  const samples = await timeEach(N_LATENCY, 200, async () => {
    await conn.write(frame);
    let got = 0;
    while (got < frame.byteLength) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("the bare engine process went away");
      got += n;
    }
  });
  conn.close();
  listener.close();
  await child.status;
  return samples;
}

export async function rawDenoStartMs(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const code =
    `const c = await Deno.connect({ hostname: "127.0.0.1", port: ${listener.addr.port} }); await c.write(new Uint8Array([0, 0, 0, 0])); c.close();`;
  const start = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const conn = await listener.accept();
  const ms = performance.now() - start;
  conn.close();
  listener.close();
  await child.status;
  return ms;
}

export async function rawNewWorkersMs(n: number): Promise<number> {
  const start = performance.now();
  const workers: Worker[] = [];
  for (let i = 0; i < n; i++) {
    workers.push(new Worker(new URL("./raw_echo_worker.ts", import.meta.url)));
  }
  await Promise.all(workers.map((w) =>
    new Promise((resolve) => {
      w.once("message", resolve);
      w.postMessage(0);
    })
  ));
  const ms = performance.now() - start;
  await Promise.all(workers.map((w) => w.terminate()));
  return ms;
}
