/**
 * The engine side of troupe: what code running on an engine may import, and
 * the engine process itself (troupe's `ipengine`):
 *
 * ```sh
 * deno run -A jsr:@troupe/parallel/engine --file conn.json
 * deno run -A jsr:@troupe/parallel/engine --connect HOST:PORT --key KEY
 * ```
 *
 * @module
 */

import { parseEngineArgs, serveEngine } from "./main.ts";

export { engineId, publishData } from "./engine_context.ts";
export { type EngineArgs, parseEngineArgs, serveEngine } from "./main.ts";

if (import.meta.main) {
  try {
    Deno.exit(await serveEngine(await parseEngineArgs(Deno.args)));
  } catch (error) {
    console.error(`troupe engine: ${(error as Error).message}`);
    Deno.exit(2);
  }
}
