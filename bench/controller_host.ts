/**
 * A controller in a process of its own, for bench/controller_figures.ts:
 *
 *   deno run -A bench/controller_host.ts <history path or :memory:> [processes]
 *
 * starts a controller of 2 Worker engines (2 engine processes with
 * `processes`: bench/dependency_figures.ts) (`startController`, as
 * `troupe controller` does) with its history there, prints its
 * `clientInfo` as one JSON line on stdout, and runs until a client's
 * `shutdown()`; it also stops when its stdin ends, so that a bench that
 * dies half way leaves no controller behind.
 *
 * @module
 */

import { startController } from "../controller/controller.ts";

/** Runs the controller until it stops, then ends the process. */
async function host(path: string, processes: boolean): Promise<never> {
  const controller = await startController({
    id: `bench-${Deno.pid}`,
    engines: processes ? { workers: 0, processes: 2 } : { workers: 2 },
    history: { path },
    log: () => {},
  });
  console.log(JSON.stringify(controller.clientInfo));
  (async () => {
    for await (const _ of Deno.stdin.readable) { /* until the bench is gone */ }
    await controller.stop();
  })();
  await controller.closed;
  // The stdin reader above would keep the process alive forever.
  Deno.exit(0);
}

if (import.meta.main) {
  const [path, kind] = Deno.args;
  if (path === undefined) {
    console.error("usage: controller_host.ts <history path or :memory:>");
    Deno.exit(2);
  }
  await host(path, kind === "processes");
}
