/**
 * troupe's version, where code can read it (traces name it as their
 * instrumentation scope's and SDK's version); a test checks it against
 * deno.json's, the one that is published.
 *
 * @module
 */

/**
 * troupe's version, as deno.json says it.
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * console.log(VERSION); // "0.1.0"
 * ```
 */
export const VERSION: string = "0.1.0";
