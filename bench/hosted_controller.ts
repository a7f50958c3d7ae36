/**
 * A client connected to a controller in a process of its own
 * (bench/controller_host.ts), for the benches that measure through one:
 * the process started, its address read, the client connected, and both
 * ended whatever the measure does.
 *
 * @module
 */

import { Client } from "../mod.ts";

/**
 * Runs `measure` on a client connected to a controller hosted in a new
 * process by bench/controller_host.ts with `hostArgs` (its history path,
 * then `processes` for engine processes), and returns what it gives. The
 * client shuts the controller down afterwards; should that not get there,
 * the host's stdin ending stops it.
 *
 * @example
 * ```ts
 * import { withHostedController } from "./hosted_controller.ts";
 * // Starts a process and its engines: only when asked.
 * if (Deno.args.includes("--bench")) {
 *   const ids = await withHostedController([":memory:"], async (client) => {
 *     await client.waitForEngines(2, { timeoutMs: 60_000 });
 *     return client.ids;
 *   });
 *   console.log(ids); // [0, 1]
 * }
 * ```
 */
export async function withHostedController<T>(
  hostArgs: readonly string[],
  measure: (client: Client) => Promise<T>,
): Promise<T> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./controller_host.ts", import.meta.url).pathname,
      ...hostArgs,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const client = await Client.connect(
      JSON.parse(await firstLine(child.stdout)),
    );
    try {
      return await measure(client);
    } finally {
      await client.shutdown();
    }
  } finally {
    await child.stdin.close();
    await child.status;
  }
}

/** The first line `stream` gives, or an error saying what came instead. */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    const end = text.indexOf("\n");
    if (end >= 0) return text.slice(0, end);
  }
  throw new Error(
    `the controller ended before it gave its address${
      text ? `; it wrote: ${text}` : ""
    }`,
  );
}
