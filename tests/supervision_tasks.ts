/**
 * Tasks for the supervision tests, shipped to Worker engines by their
 * source: an engine global to set and read (lost when the engine restarts),
 * tasks that never end, never yield, or end their engine, and tasks held by
 * a SharedArrayBuffer latch (`latch()` in helpers.ts), yielding or not.
 *
 * @module
 */

/** Engine-side globals used by these tasks. */
type G = { x?: unknown };

/**
 * Sets the engine global `x`.
 *
 * @example
 * ```ts
 * import { getX, setX } from "./supervision_tasks.ts";
 * import { withClient } from "./helpers.ts";
 * await withClient({ workers: 1 }, async (client) => {
 *   await client.view(0).applySync(setX, "kept");
 *   console.log(await client.view(0).applySync(getX)); // "kept"
 * });
 * ```
 */
export function setX(value: unknown): void {
  (globalThis as G).x = value;
}

/**
 * The engine global `x` (undefined after a restart).
 *
 * @example
 * ```ts
 * import type { Client } from "../mod.ts";
 * import { getX } from "./supervision_tasks.ts";
 * const xOf = (client: Client) => client.view(0).applySync(getX);
 * ```
 */
export function getX(): unknown {
  return (globalThis as G).x;
}

/**
 * A task that never ends by itself, without blocking its engine.
 *
 * @example
 * ```ts
 * import type { Client } from "../mod.ts";
 * import { forever } from "./supervision_tasks.ts";
 * const hold = (client: Client) => client.view(0).applyAsync(forever);
 * ```
 */
export function forever(): Promise<never> {
  return new Promise<never>(() => {});
}

/**
 * A task that never yields to its event loop while a test looks (20 s):
 * unbounded, the Worker it runs on would spin on after it was terminated
 * (Deno 2.9.6, deno#35657) and eat a core for the rest of the run.
 *
 * @example
 * ```ts
 * import type { Client } from "../mod.ts";
 * import { spin } from "./supervision_tasks.ts";
 * const jam = (client: Client) => client.view(0).applyAsync(spin);
 * ```
 */
export function spin(): number {
  const end = Date.now() + 20_000;
  let n = 0;
  while (Date.now() < end) n++;
  return n;
}

/**
 * A task that ends its engine's thread with `Deno.exit(code)`.
 *
 * @example
 * ```ts
 * import type { Client } from "../mod.ts";
 * import { exitWith } from "./supervision_tasks.ts";
 * const crash = (client: Client) => client.view(0).applyAsync(exitWith, 3);
 * ```
 */
export function exitWith(code: number): never {
  return Deno.exit(code);
}

/**
 * Waits for the latch without blocking its engine (answers heartbeats);
 * "released", or "latch never opened" after 30 s.
 *
 * @example
 * ```ts
 * import { latch, withClient } from "./helpers.ts";
 * import { waitUntilOpen } from "./supervision_tasks.ts";
 * await withClient({ workers: 1 }, async (client) => {
 *   const gate = latch();
 *   const held = client.view(0).applyAsync(waitUntilOpen, gate.sab);
 *   gate.open();
 *   console.log(await held); // "released"
 * });
 * ```
 */
export function waitUntilOpen(sab: SharedArrayBuffer): Promise<string> {
  return new Promise<string>((resolve) => {
    const flag = new Int32Array(sab);
    const end = Date.now() + 30_000;
    const poll = () => {
      if (Atomics.load(flag, 0) === 1) resolve("released");
      else if (Date.now() > end) resolve("latch never opened");
      else setTimeout(poll, 2);
    };
    poll();
  });
}

/**
 * Busy-waits for the latch, never yielding (capped at 30 s).
 *
 * @example
 * ```ts
 * import type { Client } from "../mod.ts";
 * import { spinUntilOpen } from "./supervision_tasks.ts";
 * const busy = (client: Client, sab: SharedArrayBuffer) =>
 *   client.view(0).applyAsync(spinUntilOpen, sab);
 * ```
 */
export function spinUntilOpen(sab: SharedArrayBuffer): string {
  const flag = new Int32Array(sab);
  const end = Date.now() + 30_000;
  while (Atomics.load(flag, 0) === 0 && Date.now() < end) {
    // spin
  }
  return Atomics.load(flag, 0) === 1 ? "released" : "latch never opened";
}
