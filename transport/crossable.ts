/**
 * Which values can cross between the client and an engine: one answer for
 * both transports, structured clone to Worker engines and msgpack
 * (`codec.ts`) to engine processes.
 *
 * Left alone, the two lose what they cannot carry in different ways: a
 * class instance arrives without its prototype (`p.norm is not a
 * function`), msgpack writes an `AbortSignal` or a `Response` as `{}`, and
 * structured clone throws an error that names no path. So values are walked
 * once where they are handed over, and what would not arrive as it left is
 * refused with its path, what it is, and what to do instead.
 *
 * Here are the rules: what crosses, how deep, to which kind of engine.
 * `crossing_check.ts` walks a value against them (`checkCrossable`), and
 * `crossing_refusals.ts` words why one is refused.
 *
 * @module
 */

/**
 * What crosses, in words, for error messages and the README.
 *
 * @example
 * ```ts
 * import { CROSSES } from "./crossable.ts";
 * console.log(`values that cross: ${CROSSES}`);
 * ```
 */
export const CROSSES: string = "numbers, strings, booleans, null, " +
  "undefined, bigints, plain objects and arrays, Map, Set, Date, RegExp, " +
  "Error, ArrayBuffer, typed arrays and DataView";

/**
 * The deepest nesting that crosses, to either kind of engine: a value may
 * sit inside at most this many objects, arrays, Maps, Sets and errors.
 * Deeper values are refused where they are handed over, so that both kinds
 * take the same values (structured clone takes any depth, msgpack's
 * default stops at 100). 256 is far beyond data's usual depth and within
 * every thread's stack with room to spare: Maps, the costliest level to
 * encode, run out of stack near 650 levels.
 */
export const MAX_DEPTH = 256;

/**
 * How far below a message's top the values it carries sit: a map chunk's
 * items are at `run.args[column][row]`, a pushed value at
 * `run.args[0][name]`.
 *
 * @example
 * ```ts
 * import { MAX_DEPTH, MESSAGE_DEPTH } from "./crossable.ts";
 * console.log(`a message nests at most ${MAX_DEPTH + MESSAGE_DEPTH} levels`);
 * ```
 */
export const MESSAGE_DEPTH = 4;

/**
 * What the transport can carry beyond the values every engine takes. Only
 * shared memory differs: cycles and shared objects cross both ways
 * (structured clone to a Worker, back-references in `codec.ts` to a
 * process), and one depth limit, `MAX_DEPTH`, holds for both.
 *
 * @example
 * ```ts
 * import type { CrossingRules } from "./crossable.ts";
 * import { MAX_DEPTH } from "./crossable.ts";
 * const threads: CrossingRules = { sharedMemory: true, maxDepth: MAX_DEPTH };
 * ```
 */
export interface CrossingRules {
  /** A `SharedArrayBuffer` is shared as it is (a thread of this process). */
  sharedMemory: boolean;
  /** How deep a value may nest (`MAX_DEPTH`, or more for a message). */
  maxDepth: number;
}

/**
 * What may be handed to some engine: a Worker engine can take all of it.
 * What only an engine process refuses (a `SharedArrayBuffer`) is refused
 * by the codec when the message is sent.
 *
 * @example
 * ```ts
 * import { ANY_ENGINE } from "./crossable.ts";
 * import { checkCrossable } from "./crossing_check.ts";
 * checkCrossable([1, { a: new Float64Array(3) }], "argument 1", ANY_ENGINE);
 * ```
 */
export const ANY_ENGINE: CrossingRules = {
  sharedMemory: true,
  maxDepth: MAX_DEPTH,
};

/**
 * What may be handed to an engine process: no shared memory.
 *
 * @example
 * ```ts
 * import { ENGINE_PROCESS } from "./crossable.ts";
 * import { checkCrossable } from "./crossing_check.ts";
 * checkCrossable(new Int32Array(new SharedArrayBuffer(4)), "argument 1", ENGINE_PROCESS);
 * ```
 */
export const ENGINE_PROCESS: CrossingRules = {
  sharedMemory: false,
  maxDepth: MAX_DEPTH,
};

/**
 * What msgpack frames (`codec.ts`) carry: no shared memory. The codec
 * checks whole messages, whose envelope (`{ t: "run", args: [...] }`, a map
 * chunk's columns, a push's namespace) holds the values checked at the call
 * up to `MESSAGE_DEPTH` levels down.
 *
 * @example
 * ```ts
 * import { OVER_MSGPACK } from "./crossable.ts";
 * import { checkCrossable } from "./crossing_check.ts";
 * checkCrossable({ t: "pong" }, "the message", OVER_MSGPACK);
 * ```
 */
export const OVER_MSGPACK: CrossingRules = {
  sharedMemory: false,
  maxDepth: MAX_DEPTH + MESSAGE_DEPTH,
};
