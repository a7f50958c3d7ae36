/**
 * How big an engine's heap may grow when nobody says: a share of the
 * machine's memory.
 *
 * @module
 */

/**
 * The heap limit of each of `engines` engines, in MiB, when none is given:
 * half the machine's memory shared among them, within 256 to 4096, or 2048
 * when memory cannot be read (without `--allow-sys`; never prompts).
 *
 * @example
 * ```ts
 * import { defaultHeapMb } from "./engine_heap.ts";
 * const mb = defaultHeapMb(4);
 * console.log(mb >= 256 && mb <= 4096); // true
 * ```
 */
export function defaultHeapMb(engines: number): number {
  // Ask without prompting: a demo should not stop to ask for --allow-sys.
  const sys = { name: "sys", kind: "systemMemoryInfo" } as const;
  if (Deno.permissions.querySync(sys).state !== "granted") return 2048;
  try {
    const total = Deno.systemMemoryInfo().total / 2 ** 20;
    const share = Math.floor(total / 2 / Math.max(1, engines));
    return Math.min(4096, Math.max(256, share));
  } catch {
    return 2048;
  }
}
